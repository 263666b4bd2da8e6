"""The one catalog of texts for the error codes the domain and the forms give: code -> words."""

from flask_babel import lazy_gettext as _l

# A code is looked up as "<area>.<code>" first, then as plain "<code>": the plain codes below say
# the same thing wherever they are raised; an area's own entry words a code for that page only
# (the domain raises "name_required" for a group, a form and an organization alike).
TEXTS = {
    # -- said alike on every page ---------------------------------------------------------------
    "empty": _l("The file is empty."),
    "too_large": _l("This is too large."),
    "type_not_allowed": _l("This kind of file is not accepted."),
    "too_many": _l("No more files can be added to this request."),
    "total_too_large": _l("The files together are too large."),
    "too_long": _l("This is too long."),
    "title_too_long": _l("The title is too long."),
    "name_too_long": _l("The name is too long (at most 200 characters)."),
    "organizations_required": _l("Choose at least one organization."),
    "requester_blocked": _l("Requests from this address are not accepted."),
    # -- blocking a requester (portal.desk.blocking) ---------------------------------------------
    "block.invalid_email": _l("This is not an email address that can be blocked."),
    "block.own_address": _l("You cannot block your own address."),
    # -- agent groups and assignment rules (portal.desk.assignment.GroupError) ------------------
    "group.name_required": _l("Give the group a name."),
    "group.name_too_long": _l("The name is too long (at most 100 characters)."),
    "group.name_taken": _l("This brand already has a group with this name."),
    "group.not_agent": _l("Choose agents of this brand."),
    "group.invalid_target": _l("Choose one of the listed agents or groups."),
    # -- the rule bot's rules (portal.desk.automation.rules.RuleInvalid) ------------------------
    "rule.name_required": _l("Give the rule a name."),
    "rule.name_too_long": _l("The name is too long (at most 100 characters)."),
    "rule.name_taken": _l("This brand already has a rule with this name."),
    "rule.events_required": _l("Choose when the rule runs."),
    "rule.match_invalid": _l("Choose whether all or any of the conditions must hold."),
    "rule.too_many_conditions": _l("Use at most 30 conditions."),
    "rule.actions_required": _l("Give the rule at least one action."),
    "rule.too_many_actions": _l("Use at most 20 actions."),
    "rule.unknown_condition": _l("Choose one of the listed conditions."),
    "rule.unknown_action": _l("Choose one of the listed actions."),
    "rule.value_required": _l("Fill in a value for this row."),
    "rule.value_too_long": _l("This value is too long."),
    "rule.not_an_email": _l("Give an email address."),
    "rule.not_a_domain": _l("Give a domain, such as example.com."),
    "rule.unknown_organization": _l("No organization has this name."),
    "rule.unknown_form": _l("This brand has no form with this name."),
    "rule.answer_format": _l("Write the field's key, an equals sign and the answer: plan=pro."),
    "rule.unknown_channel": _l("Write web, email or api."),
    "rule.unknown_locale": _l("Give one of the brand's languages (such as en or ko)."),
    "rule.unknown_priority": _l("Write low, normal, high or urgent."),
    "rule.unknown_status": _l("Write new, open, pending, on_hold, solved or closed."),
    "rule.unknown_type": _l("Write question, incident, problem or task."),
    "rule.unknown_assignee": _l(
        "Give the email of an agent of this brand or the name of one of its groups."
    ),
    "rule.unknown_webhook": _l("Give the name of one of the brand's webhooks."),
    "rule.mail_required": _l("Give the mail a subject (the value) and a text."),
    "rule.unknown_placeholder": _l("Use only the listed placeholders."),
    "rule.tag_too_long": _l("A tag is too long."),
    "rule.too_many_tags": _l("Too many tags."),
    # -- schedules (portal.desk.automation.schedules.ScheduleError) -----------------------------
    "schedule.required": _l("Give the schedule a name."),
    "schedule.too_long": _l("The name is too long (at most 120 characters)."),
    "schedule.name_taken": _l("This brand already has a schedule with this name."),
    "schedule.unknown_condition": _l("Choose a condition from the list."),
    "schedule.unknown_action": _l("Choose an action from the list."),
    "schedule.bad_status": _l("Type one or more of: new, open, pending, on_hold, solved, closed."),
    "schedule.bad_priority": _l("Type one or more of: low, normal, high, urgent."),
    "schedule.bad_hours": _l("Give a whole number of hours, from 1 to %(max)s."),
    "schedule.bad_assignee": _l("Type “assigned” or “unassigned”."),
    "schedule.bad_group": _l("Type the name of one of this brand's groups."),
    "schedule.bad_tags": _l("Type one or more tags (at most 64 characters each)."),
    "schedule.bad_note": _l("Type the note (at most %(note)s characters)."),
    "schedule.bad_webhook": _l("Type the name of one of this brand's webhooks."),
    "schedule.needs_hours": _l("Add at least one condition on hours."),
    "schedule.too_many": _l("At most %(rows)s rows."),
    "schedule.actions_required": _l("Add at least one action."),
    # -- business hours (portal.desk.automation.business_hours.HoursError) ----------------------
    "hours.bad_day": _l("“%(found)s” is not a day: use mon, tue, wed, thu, fri, sat or sun."),
    "hours.bad_span": _l("“%(found)s” is not a span of hours: write it like 09:00-18:00."),
    "hours.bad_time": _l("“%(found)s” is not a time: write it like 09:00."),
    "hours.span_backwards": _l("“%(found)s” ends before it starts."),
    "hours.bad_date": _l("“%(found)s” is not a date: write it like 2026-12-25."),
    # -- label names (kb.labels) ----------------------------------------------------------------
    "label.name_too_long": _l("The name is too long."),
    # -- the article editor (kb.authoring), worded for the editor -------------------------------
    "article.title_required": _l("Give the article a title."),
    "article.slug_taken": _l("Another article in this brand and language already uses this slug."),
    "article.section_unknown": _l("Choose a section of this brand."),
    "article.kind_unknown": _l("Choose a kind."),
    "article.too_many_labels": _l("Use at most 20 labels."),
    "article.status_unknown": _l("Choose a status."),
    "member.member_name_missing": _l("Give the member's name."),
    "member.member_name_long": _l("Use at most 200 characters for the name."),
    "member.member_email_invalid": _l("Give a valid email address."),
    "member.member_email_taken": _l("An account with this address exists already."),
    "member.member_login_id_invalid": _l(
        "A login ID is 2 to 63 lower-case letters, digits, dots, dashes or underscores."
    ),
    "member.member_login_id_taken": _l("Another member has this login ID."),
    "member.member_no_role": _l("Give the member a role (on a brand or every brand)."),
    "member.member_not_invited": _l("This member has set their password already."),
    "member.member_self": _l("You cannot deactivate yourself."),
    "member.org_admin_only": _l("Only organization admins make or change organization admins."),
    "member.last_org_admin": _l(
        "The organization needs at least one active organization admin: make someone else one "
        "first."
    ),
    "member.role_unknown": _l("Choose one of the listed roles."),
    "role.role_name_missing": _l("Give the role a name."),
    "role.role_name_long": _l("Use at most 100 characters for the name."),
    "role.role_name_taken": _l("Another role has this name."),
    "role.permission_unknown": _l("Choose among the listed permissions."),
    "role.permissions_none": _l("Choose at least one permission."),
    "role.role_builtin": _l("Built-in roles cannot be changed."),
    "role.role_in_use": _l("Members hold this role: give them another one first."),
    "article.publish_not_allowed": _l(
        "Your role saves drafts only: someone who may publish puts it live (or changes a "
        "published article)."
    ),
    "article.body_unrenderable": _l("The text could not be rendered; it may be too long."),
    "article.unpublish_before_publish": _l("The unpublish time must come after the publish time."),
    "article.locale_not_enabled": _l("This language is not enabled for the brand."),
    "article.published_now": _l(
        "The publish time was in the past, so the article is published now."
    ),
    # -- categories and sections (kb.structure) -------------------------------------------------
    "structure.title_required": _l("A title in the brand's default language is required."),
    "structure.category_unknown": _l("Choose a category of this brand."),
    "structure.section_not_empty": _l(
        "This section still holds %(count)s articles. Move them to another section first."
    ),
    "structure.category_not_empty": _l(
        "This category still holds %(count)s articles. Move them to another category first."
    ),
    "structure.audience_unknown": _l("Choose who may read the section."),
    "structure.organizations_unknown": _l("Choose organizations from the list."),
    # -- article attachments (kb.attachments), naming the limits --------------------------------
    "attachment.too_large": _l("The file is larger than %(size)s."),
    "attachment.type_not_allowed": _l(
        "This kind of file is not allowed, or its content does not match its name. "
        "Upload PNG, JPEG, GIF or WebP images, PDF documents, or plain text "
        "(.txt, .csv, .log)."
    ),
    "attachment.too_many": _l(
        "This article already has %(count)s files, the most it can have. Delete one to make room."
    ),
    "attachment.total_too_large": _l(
        "The article's files would take more than %(size)s together. Delete one to make room."
    ),
    "attachment.failed": _l("The file could not be uploaded."),
    # -- inquiry forms (portal.desk.forms), worded for the editor -------------------------------
    "form.name_required": _l("Give the form a name in the brand's default language."),
    "form.description_too_long": _l("The description is too long (at most 2000 characters)."),
    "form.audience_unknown": _l("Choose who may use the form."),
    "form.key_required": _l("Give the field a key."),
    "form.key_invalid": _l(
        "Use lower-case letters, digits and underscores, starting with a letter (at most 64)."
    ),
    "form.key_reserved": _l(
        "Every form already asks for subject, description, name and email: choose another key."
    ),
    "form.key_taken": _l("Another field of this form already uses this key."),
    "form.too_many_fields": _l("A form can have at most 100 fields."),
    "form.type_unknown": _l("Choose a type."),
    "form.label_required": _l("Give the field a label in the brand's default language."),
    "form.label_too_long": _l("The label is too long (at most 200 characters)."),
    "form.help_too_long": _l("The help text is too long (at most 1000 characters)."),
    "form.options_required": _l("Add at least one option, one per line."),
    "form.too_many_options": _l("Use at most 200 options."),
    "form.option_value_invalid": _l(
        "Option values use letters, digits, underscores, dots and hyphens, starting with a "
        "letter or digit (at most 64)."
    ),
    "form.option_duplicate": _l("Two options have the same value."),
    "form.option_label_too_long": _l("An option's label is too long (at most 200 characters)."),
    "form.length_out_of_range": _l("Use a length between 0 and 100000."),
    "form.length_range": _l("The maximum length must not be below the minimum length."),
    "form.value_invalid": _l("Use an ordinary number."),
    "form.value_range": _l("The maximum value must not be below the minimum value."),
    "form.number_invalid": _l("This is not a number."),
    "form.pattern_too_long": _l("The pattern is too long (at most 200 characters)."),
    "form.pattern_invalid": _l("This is not a valid regular expression."),
    "form.condition_self": _l("A field cannot depend on itself."),
    "form.condition_unknown": _l("Choose another field of this form."),
    "form.condition_target_type": _l(
        "A field can depend only on a field the requester answers (not hidden, not a file)."
    ),
    "form.type_has_dependents": _l(
        "Other fields depend on this field's answer: it cannot become hidden or a file."
    ),
    "form.condition_after": _l(
        "The field this one depends on must come before it: move it up first."
    ),
    "form.condition_value_required": _l("Give the answer that shows this field."),
    "form.condition_value_too_long": _l("The answer is too long (at most 200 characters)."),
    "form.condition_value_unknown": _l("Use one of the option values of that field."),
    "form.query_param_required": _l("Give the name of the link's query parameter."),
    "form.query_param_invalid": _l(
        "Use letters, digits, underscores, dots and hyphens (at most 64 characters)."
    ),
    # -- customer organizations (portal.desk.orgs), worded for the admin ------------------------
    "org.name_required": _l("Give the organization a name."),
    "org.name_taken": _l("Another organization already has this name."),
    "org.domain_at": _l("Write domains without “@”, like example.com."),
    "org.domain_invalid": _l("Use domain names like example.com."),
    "org.domain_public": _l(
        "Anyone can get an address at a public mail service: use your customer's own domain."
    ),
    "org.domain_taken": _l("A domain can belong to one organization only."),
    "org.too_many_domains": _l("Use at most 100 domains."),
    "org.email_required": _l("Type the email address of a customer account."),
    "org.account_unknown": _l("No account has this email address."),
    "org.not_customer": _l("This is a staff account: only customers can be members."),
    "org.already_member": _l("This customer is already a member."),
    "org.other_organization": _l(
        "This customer belongs to another organization: remove them there first."
    ),
    # -- single sign-on refusals (portal.desk.sso), shown to the visitor ------------------------
    "sso.invalid": _l("This sign-in link is not valid."),
    "sso.expired": _l("This sign-in link has expired."),
    "sso.used": _l("This sign-in link has already been used."),
    "sso.staff": _l("Staff accounts cannot sign in this way. Please sign in with your password."),
    "sso.inactive": _l("This account has been deactivated."),
    "sso.conflict": _l("Something changed while signing you in. Please try again."),
    # -- one ticket for agents (portal.desk.agent_tickets.PropertyError, replies, files) --------
    "ticket.invalid_delay": _l("Choose when to send it: now, or within 24 hours."),
    "ticket.required": _l("Write a reply or a note first."),
    "ticket.invalid": _l("Choose one of the listed values."),
    "ticket.reply_not_allowed": _l("Your role writes internal notes only: choose Internal note."),
    "ticket.note_not_allowed": _l("Your role may not add notes to this brand's tickets."),
    "ticket.change_not_allowed": _l("Your role may not change this on this brand's tickets."),
    "ticket.not_in_brand": _l("Choose an agent of this ticket's brand."),
    "ticket.nobody_receives": _l(
        "Nobody in this ticket's group receives tickets: choose an agent."
    ),
    "ticket.no_group": _l("Choose a group for the next agent of the group, or choose an agent."),
    "ticket.tag_too_long": _l("A tag can be at most %(num)d characters."),
    "ticket.too_many_tags": _l("A ticket can have at most %(num)d tags."),
    "ticket.unknown_placeholder": _l("Unknown placeholder: %(found)s. You can use %(names)s."),
    # -- customer notifications' wording (portal.desk.automation.notifications) ---------------
    "notification.unknown_placeholder": _l(
        "Unknown placeholder: %(found)s. You can use %(names)s."
    ),
    "notification.required": _l("Write both the subject and the text, or leave both empty."),
    # -- bulk actions on selected tickets (the ticket's texts otherwise) ------------------------
    "bulk.no_selection": _l("Select at least one ticket first."),
    "bulk.too_many": _l("Select at most %(num)d tickets at a time."),
    "bulk.nothing_to_do": _l("Choose a change to make or write a reply."),
    "bulk.required": _l("Write a reply first."),
    "bulk.not_in_brand": _l("Choose an agent of every selected ticket's brand."),
    # -- a visitor's request (portal.desk.intake and the inquiry form's fields) -----------------
    "request.required": _l("Please fill this in."),
    "request.invalid_email": _l("Enter an email address like name@example.com."),
    "request.invalid_choice": _l("Choose one of the options."),
    "request.too_short": _l("This is too short."),
    "request.pattern": _l("This is not in the expected format."),
    "request.not_a_number": _l("Enter a number."),
    "request.too_small": _l("This number is too small."),
    "request.not_a_date": _l("Enter a date."),
    "request.unknown": _l("Please check this."),
    # -- sharing a request with people (portal.desk.customer_requests.share_with_people) --------
    "share.required": _l("Enter one or more email addresses."),
    "share.invalid_email": _l("Enter email addresses like name@example.com."),
    "share.too_many": _l("A request can be shared with at most 20 people."),
    # -- support addresses (portal.mail.addresses), worded for the admin ------------------------
    "mail_address.address_required": _l("Type the address mail is sent to."),
    "mail_address.address_invalid": _l("Use an address like support@example.com."),
    "mail_address.address_plus": _l(
        "Use an address without “+”: Portal adds a +tag of its own to the addresses it "
        "replies from."
    ),
    "mail_address.address_taken": _l("Another support address already uses this address."),
    "mail_address.brand_unknown": _l("Choose one of the listed brands."),
    "mail_address.form_other_brand": _l("Choose a form of this brand."),
    "mail_address.organization_unknown": _l("Choose one of the listed organizations."),
    "mail_address.organization_form": _l(
        "An organization's address needs a form for members of chosen organizations, "
        "this organization among them."
    ),
    # -- the audit log's filter (portal.security.audit.AuditQuery) -------------------------------
    "audit.date_invalid": _l("Give a date as YYYY-MM-DD."),
    "audit.to_before_from": _l("The end date comes before the start date."),
    "audit.action_unknown": _l("Choose one of the listed actions."),
    "audit.ip_invalid": _l("Give an IP address or its beginning (digits, dots, colons)."),
    "audit.kind_unknown": _l("Choose audit or system."),
    "audit.brand_unknown": _l("No brand has this ID or slug."),
    # -- the organization running Portal (portal.security.tenant) --------------------------------
    "tenant.name_required": _l("Give the organization a name."),
    # -- the staff IP allowlist (portal.security.allowlist), one message per bad line ------------
    "allowlist.invalid": _l(
        "Line %(line)s: “%(text)s” is not an IP address or a CIDR range "
        "(like 203.0.113.7, 203.0.113.0/24 or 2001:db8::/32)."
    ),
    "allowlist.host_bits": _l(
        "Line %(line)s: “%(text)s” has bits set after its prefix length: did you mean "
        "%(suggestion)s?"
    ),
    "allowlist.too_long": _l("Line %(line)s is too long for an address or a range."),
    "allowlist.too_many": _l("Use at most %(count)s addresses and ranges."),
    "allowlist.lock_out": _l(
        "Your address %(address)s is not in the list: saving it would shut you out at once. "
        "Add your address, or a range that contains it."
    ),
    # -- the ticket export (admin/export_forms.ExportForm) ---------------------------------------
    "export.brand_required": _l("Choose a brand."),
    "export.date_invalid": _l("Give a date as YYYY-MM-DD."),
    "export.to_before_from": _l("The end date comes before the start date."),
    "export.format_unknown": _l("Choose CSV or JSON."),
    # -- attachment retention (portal.desk.retention) -------------------------------------------
    "retention.days_not_a_number": _l(
        "Give a whole number of days, or leave it empty to keep files forever."
    ),
    "retention.days_out_of_range": _l("Give between %(min)s and %(max)s days."),
    # -- a brand's theme and mail template, the back office's top bar (kb.theme, desk.branding) -
    "theme.color_invalid": _l("Give a colour as # and six hex digits, like #1f4e79."),
    "theme.color_unreadable": _l(
        "White text on this colour would be hard to read (contrast %(ratio)s, at least 4.5 "
        "is needed). Choose a darker colour."
    ),
    "theme.too_large": _l("The image is larger than %(size)s."),
    "theme.logo_type_not_allowed": _l(
        "Upload a PNG, JPEG or WebP image whose name ends like its kind (.png, .jpg, .webp). "
        "SVG is not accepted."
    ),
    "theme.favicon_type_not_allowed": _l(
        "Upload a PNG or ICO icon whose name ends like its kind (.png, .ico)."
    ),
    "theme.link_label_required": _l("Give the link a label."),
    "theme.link_label_too_long": _l("The label is too long (at most 40 characters)."),
    "theme.link_url_invalid": _l("Give a full address starting with https:// or http://."),
    "theme.too_many_links": _l("The header holds at most 5 links."),
    "theme.name_too_long_60": _l("The name is too long (at most 60 characters)."),
}


def has_text(code: str, area: str = "") -> bool:
    return f"{area}.{code}" in TEXTS or code in TEXTS


def error_text(code: str, area: str = "", default: str | None = None, **values) -> str:
    """The text for `code` as `area`'s pages word it, in the request's language, with its
    %(name)s values filled in. An unknown code gives the text of `default` (also looked up in
    `area`) if there is one, else the code itself."""
    text = TEXTS.get(f"{area}.{code}") or TEXTS.get(code)
    if text is None:
        return error_text(default, area, **values) if default else code
    return str(text) % values if values else str(text)
