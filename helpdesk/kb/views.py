"""Pages of the knowledge base: home, sections, articles, votes, and how to get further help."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.accounts.permissions import can_moderate_comment_by, can_moderate_comments
from helpdesk.extensions import db
from helpdesk.kb import get_library
from helpdesk.kb.articles import Article
from helpdesk.kb.comments import list_comments
from helpdesk.kb.editing import redirect_target
from helpdesk.kb.forms import CommentForm, HideCommentForm, VoteForm, VoteReasonForm
from helpdesk.kb.kept_stats import all_stats, article_stats
from helpdesk.kb.models import Vote
from helpdesk.kb.page_cache import shared_page
from helpdesk.kb.services import (
    VoteCounts,
    add_vote_reason,
    cast_vote,
    get_vote,
    rank_most_helpful,
)
from helpdesk.kb.stats import Stats, get_stats
from helpdesk.kb.voters import known_voter_key, limit_votes, voter_key

bp = Blueprint("kb", __name__)


def get_article_or_404(slug: str) -> Article:
    """Return the published article or answer 404."""
    article = get_library().get(slug)
    if article is None:
        abort(404)
    return article


@bp.get("/")
def home() -> Response:
    """Show the search box, the sections with their articles and the most helpful articles."""
    library = get_library()
    counts = {
        slug: VoteCounts(s.helpful, s.total) for slug, s in all_stats().items() if s.total and slug in library.articles
    }
    shown = tuple(sorted((s, c.helpful, c.total) for s, c in counts.items()))

    def render() -> str:
        most_helpful = [library.articles[s] for s in rank_most_helpful(counts, list(library.articles))]
        return render_template("kb/home.html", library=library, counts=counts, most_helpful=most_helpful)

    return shared_page(("home", library.fingerprint, shown), render)


@bp.get("/sections/<slug>")
def section(slug: str) -> str:
    """List a section's articles with their questions."""
    library = get_library()
    found = library.section(slug)
    if found is None:
        abort(404)
    return render_template("kb/section.html", section=found, articles=library.in_section(slug))


def render_article(
    article: Article,
    *,
    form: VoteForm | None = None,
    comment_form: CommentForm | None = None,
    reason_form: VoteReasonForm | None = None,
    status: int = 200,
    stats: Stats | None = None,
    my_vote: Vote | None | bool = False,
) -> tuple[str, int]:
    """Render an article page (with a form's errors and `status` when re-shown after bad input)."""
    library = get_library()
    stats = stats or get_stats(db.session, article.slug)
    my_vote = my_vote_on(article.slug) if my_vote is False else my_vote
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    moderator = viewer is not None and can_moderate_comments(viewer)
    # The counter row says whether readers have any comment to see: most pages need no comment query.
    comments = list_comments(db.session, article.slug, viewer=viewer) if stats.comments or moderator else []
    # The comments this reader may hide or show again: those of their state's authors (national staff: all).
    moderated = {c.id for c in comments if viewer is not None and can_moderate_comment_by(viewer, c.author)}
    return render_template(
        "kb/article.html",
        article=article,
        section=library.section(article.section),
        related=library.related(article),
        counts=VoteCounts(stats.helpful, stats.total),
        my_vote=my_vote,
        form=form or VoteForm(),
        reason_form=reason_form or VoteReasonForm(),
        comments=comments,
        moderated=moderated,
        comment_form=comment_form or CommentForm(),
        hide_form=HideCommentForm(),
    ), status


def my_vote_on(slug: str) -> Vote | None:
    """Return the current voter's vote on the article (no query for a browser that never voted)."""
    voter = known_voter_key()
    return get_vote(db.session, slug, voter=voter) if voter else None


@bp.get("/articles/<slug>")
def article(slug: str) -> Response:
    """Show an article: its questions, answers with anchors, and the helpfulness vote (old slugs redirect)."""
    found = get_library().get(slug)
    if found is None:
        moved = redirect_target(db.session, slug)
        if moved is not None and get_library().get(moved) is not None:
            return redirect(url_for("kb.article", slug=moved), 301)
        abort(404)
    stats, my_vote = article_stats(found.slug), my_vote_on(found.slug)
    mine = (my_vote.helpful, bool(my_vote.reason)) if my_vote else None
    parts = ("article", get_library().fingerprint, found.slug, stats, mine)
    return shared_page(parts, lambda: render_article(found, stats=stats, my_vote=my_vote)[0])


@bp.post("/articles/<slug>/vote")
@limit_votes
def vote(slug: str) -> Response | tuple[str, int]:
    """Record "Was this article helpful?" from the plain form."""
    found = get_article_or_404(slug)
    form = VoteForm()
    if not form.validate_on_submit():
        return render_article(found, form=form, status=400)
    helpful = form.helpful.data == "yes"
    cast_vote(db.session, found.slug, voter=voter_key(), helpful=helpful, reason=form.reason.data)
    flash(
        "Thank you for your feedback."
        if helpful or form.reason.data
        else "Thank you. What was missing? Tell us below.",
        "success",
    )
    return redirect(url_for("kb.article", slug=found.slug, _anchor="feedback"), 303)


@bp.post("/articles/<slug>/vote/reason")
@limit_votes
def vote_reason(slug: str) -> Response | tuple[str, int]:
    """Add the reason to an earlier "No" vote."""
    found = get_article_or_404(slug)
    form = VoteReasonForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "The form could not be read; please try again.", "error")
        return render_article(found, reason_form=form, status=400)
    if not add_vote_reason(db.session, found.slug, voter=voter_key(), reason=form.reason.data or ""):
        flash("Answer Yes or No first, then tell us what was missing.", "error")
        return render_article(found, reason_form=form, status=400)
    flash("Thank you: the people who write these articles will read it.", "success")
    return redirect(url_for("kb.article", slug=found.slug, _anchor="feedback"), 303)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """List the home page, the sections and the published articles for search engines (never a draft)."""
    from xml.sax.saxutils import escape

    from flask import current_app

    library, base = get_library(), current_app.config["BASE_URL"].rstrip("/")
    urls = (
        [("/", None)]
        + [(f"/sections/{s.slug}", None) for s in library.sections]
        + [
            (a.url, a.updated.isoformat() if a.updated else None)
            for a in sorted(library.articles.values(), key=lambda a: a.slug)
        ]
    )
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, updated in urls:
        lastmod = f"<lastmod>{updated}</lastmod>" if updated else ""
        lines.append(f"  <url><loc>{escape(base + path)}</loc>{lastmod}</url>")
    response = make_response("\n".join([*lines, "</urlset>", ""]))
    response.mimetype = "application/xml"
    return response


@bp.get("/request")
def submit_request() -> Response | str:
    """Explain the path of an unresolved problem to a visitor who must sign in first; the signed-in go straight to
    the request form, whose first lines give the same explanation (one hop from any "Submit a request" link)."""
    if current_user.is_authenticated:
        return redirect(url_for("tickets.new_request"))
    return render_template("kb/request.html")
