"""Account forms: sign in, sign up, reset, settings. Each binds only the fields it lists."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from kb.locales import UI_LOCALES
from portal.desk.accounts import MIN_PASSWORD_LENGTH, normalize_email, password_problem
from portal.desk.tickets import valid_email


def _valid_email(form, field):
    if not valid_email(normalize_email(field.data)):
        raise ValidationError(_l("Enter a valid email address."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _new_password(email_of):
    """A new password: long enough, and not the account's email address."""

    def check(form, field):
        problem = password_problem(field.data or "", email_of(form))
        if problem == "too_short":
            raise ValidationError(_l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
        if problem == "is_email":
            raise ValidationError(_l("Your password cannot be your email address."))

    return check


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class SignUpForm(FlaskForm):
    name = StringField(
        _l("Your name"), filters=[_strip], validators=[InputRequired(), Length(max=200)]
    )
    email = EmailField(
        _l("Email"), filters=[_strip], validators=[InputRequired(), Length(max=254), _valid_email]
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(),
            Length(max=1024),
            _new_password(lambda form: form.email.data),
        ],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email"), filters=[_strip], validators=[InputRequired(), Length(max=254), _valid_email]
    )


class NewPasswordForm(FlaskForm):
    """A new password, typed twice. `email` is the account's address (not a field)."""

    password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(),
            Length(max=1024),
            _new_password(lambda form: form.account_email),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("password", _l("The two passwords differ."))],
    )

    def __init__(self, *args, account_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=[InputRequired(), Length(max=200)])
    nickname = StringField(
        _l("Nickname"),
        description=_l("Shown to the support team instead of your name, if you like."),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in UI_LOCALES.items()],
        validators=[InputRequired()],
    )


# Digits with the signs people write around them: +82 10-1234-5678, (555) 010 0199, 555.0199.
_PHONE = r"^\+?[0-9][0-9 ().-]{2,38}$"


class StaffProfileForm(ProfileForm):
    """A staff member's profile: the nickname is what customers see, and two more settings."""

    nickname = StringField(
        _l("Nickname"),
        description=_l(
            "Shown to customers on your replies and in mail instead of your name, if you like."
        ),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    phone = StringField(
        _l("Phone"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=40),
            Regexp(_PHONE, message=_l("Use digits, with + ( ) - . or spaces if you like.")),
        ],
    )
    receives_tickets = BooleanField(_l("Receive new tickets (round-robin assignment)"))


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=1024)]
    )


class EmailChangeForm(FlaskForm):
    new_email = EmailField(
        _l("New email"),
        filters=[_strip],
        validators=[InputRequired(), Length(max=254), _valid_email],
    )
    email_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=1024)]
    )


class ActionForm(FlaskForm):
    """A button that changes something (confirm an address): only the CSRF token."""


class LimitedEmailForm(FlaskForm):
    """The email address a sign-in, sign-up or reset post names, read before the view for the
    rate limit that counts per address (the view's own form checks CSRF and the rest)."""

    class Meta:
        csrf = False

    email = StringField()

    def limit_key(self) -> str:
        return normalize_email(self.email.data)[:254]


class SsoForm(FlaskForm):
    """What a brand's site sends: the token (posted, or in the link) and where to go after."""

    class Meta:
        csrf = False  # the route is exempt: the token's signature is the proof (see sso_jwt)

    jwt = StringField()
    return_to = StringField()

    @classmethod
    def sent(cls, request) -> "SsoForm":
        form = cls(formdata=request.values)
        if request.method == "POST":  # a posted token is read from the body only
            form.jwt.process(request.form)
        return form


class TwoFactorCodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code (sign-in, enrol, disable)."""

    code = StringField(_l("Code"), filters=[_strip], validators=[InputRequired(), Length(max=64)])
