"""Customisation forms: a brand's theme, its mail template per locale, the back office's top bar.

Each form binds an explicit list of fields; the brand and the locale come from the URL, the
member from the session. Uploaded files are streamed to a temporary file beside the store
(kb.attachments.receive) and judged by kb.theme.
"""

from pathlib import Path

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField

from kb import attachments, colors, theme
from portal.desk import branding
from portal.web.messages import error_text


class HeaderLinkForm(Form):
    """One row of the header links (a sub-form: the outer form carries the CSRF token)."""

    text = StringField(_l("Label"))
    url = StringField(_l("Address"))


class ThemeForm(FlaskForm):
    primary_color = StringField(_l("Primary colour"))
    accent_color = StringField(_l("Accent colour"))
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove the logo"))
    favicon = FileField(_l("Favicon"))
    remove_favicon = BooleanField(_l("Remove the favicon"))
    header_links = FieldList(
        FormField(HeaderLinkForm), min_entries=theme.MAX_HEADER_LINKS, max_entries=8
    )
    action = StringField()  # the button pressed: "preview", else save

    def previewing(self) -> bool:
        return self.action.data == "preview"

    def received(self, uploads_dir: Path, name: str) -> attachments.Received | None:
        storage = self._fields[name].data
        if storage is None or not getattr(storage, "filename", ""):
            return None
        return attachments.receive(
            uploads_dir, storage.stream, storage.filename, theme.MAX_LOGO_BYTES
        )

    def wanted(self, uploads_dir: Path) -> theme.Theme:
        return theme.Theme(
            primary_color=(self.primary_color.data or "").strip()[:20],
            accent_color=(self.accent_color.data or "").strip()[:20],
            header_links=[
                ((row.text.data or "")[:200], (row.url.data or "")[:1000])
                for row in self.header_links
            ],
            logo=self.received(uploads_dir, "logo"),
            remove_logo=bool(self.remove_logo.data),
            favicon=self.received(uploads_dir, "favicon"),
            remove_favicon=bool(self.remove_favicon.data),
        )

    def show_errors(self, errors: dict) -> None:
        for name, codes in errors.items():
            if name == "header_links":
                for index, row_codes in codes.items():
                    if index >= len(self.header_links.entries):
                        self.form_errors.extend(error_text(c, "theme") for c in row_codes)
                        continue
                    row = self.header_links.entries[index].form
                    for code in row_codes:
                        target = row.url if code == "link_url_invalid" else row.text
                        target.errors = [*target.errors, error_text(code, "theme")]
                continue
            field = self._fields[name]
            field.errors = [*field.errors, *(self._message(name, code) for code in codes)]

    def _message(self, name: str, code: str) -> str:
        if code == "color_unreadable":
            ratio = colors.contrast(self._fields[name].data.strip(), colors.WHITE)
            return error_text(code, "theme", ratio=f"{ratio:.1f}")
        if code == "type_not_allowed":
            return error_text(f"{name}_type_not_allowed", "theme")
        if code == "too_large":
            limit = theme.MAX_LOGO_BYTES if name == "logo" else theme.MAX_FAVICON_BYTES
            return error_text(code, "theme", size=f"{limit // 1024} KB")
        return error_text(code, "theme")


def theme_form(brand) -> ThemeForm:
    """The form, filled from the brand on GET."""
    links = [{"text": link["label"], "url": link["url"]} for link in brand.safe_header_links]
    rows = links + [{"text": "", "url": ""}] * (theme.MAX_HEADER_LINKS - len(links))
    return ThemeForm(
        data={
            "primary_color": brand.primary_color,
            "accent_color": brand.accent_color,
            "header_links": rows,
        }
    )


class MailTemplateForm(FlaskForm):
    header = StringField(_l("Header text"))
    show_logo = BooleanField(_l("Show the brand's logo"))
    footer = TextAreaField(_l("Footer text"))
    action = StringField()  # the button pressed: "preview", "test", else save

    def values(self) -> branding.MailTemplateValues:
        return branding.check_mail_template(
            (self.header.data or "")[: branding.MAX_MAIL_HEADER * 2],
            bool(self.show_logo.data),
            (self.footer.data or "")[: branding.MAX_MAIL_FOOTER * 2],
        )

    def show_errors(self, errors: dict) -> None:
        for name, codes in errors.items():
            field = self._fields[name]
            field.errors = [*field.errors, *(error_text(code) for code in codes)]


def mail_template_form(row) -> MailTemplateForm:
    data = {"header": "", "show_logo": True, "footer": ""}
    if row is not None:
        data = {"header": row.header, "show_logo": row.show_logo, "footer": row.footer}
    return MailTemplateForm(data=data)


class BrandingForm(FlaskForm):
    name = StringField(_l("Name in the top bar"))
    logo = FileField(_l("Logo"))
    remove_logo = BooleanField(_l("Remove the logo"))

    def received(self, uploads_dir: Path) -> attachments.Received | None:
        storage = self.logo.data
        if storage is None or not getattr(storage, "filename", ""):
            return None
        return attachments.receive(
            uploads_dir, storage.stream, storage.filename, theme.MAX_LOGO_BYTES
        )

    def show_errors(self, errors: dict) -> None:
        for name, codes in errors.items():
            field = self._fields[name]
            for code in codes:
                if code == "type_not_allowed":
                    message = error_text("logo_type_not_allowed", "theme")
                elif code == "too_large":
                    message = error_text(code, "theme", size=f"{theme.MAX_LOGO_BYTES // 1024} KB")
                elif code == "too_long":
                    message = error_text("name_too_long_60", "theme")
                else:
                    message = error_text(code)
                field.errors = [*field.errors, message]


def branding_form(organization) -> BrandingForm:
    return BrandingForm(data={"name": organization.backoffice_name or ""})
