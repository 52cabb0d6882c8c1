"""Flask-WTF 1.3 ships no types: only the parts Helpdesk uses."""

from flask_wtf.csrf import CSRFProtect as CSRFProtect
from flask_wtf.form import FlaskForm as FlaskForm
