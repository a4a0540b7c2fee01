"""Render Django form fields with GOV.UK Frontend markup and classes.

Used by `frontend/includes/field.html` and `frontend/includes/error_summary.html`; load with
`{% load govuk %}`. Ids follow GOV.UK Frontend's conventions: a field's hint is
`<id>-hint` and its error message `<id>-error`, where `<id>` is the id of the field's first
control, which is also what the error summary links to.
"""

from typing import Literal

from django import forms, template
from django.forms.boundfield import BoundField
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

WidgetKind = Literal[
    "hidden", "checkboxes", "radios", "checkbox", "select", "textarea", "file", "password", "input"
]

_WIDGET_CLASSES: dict[WidgetKind, str] = {
    "checkbox": "govuk-checkboxes__input",
    "select": "govuk-select",
    "textarea": "govuk-textarea",
    "file": "govuk-file-upload",
    "password": "govuk-input govuk-password-input__input govuk-js-password-input-input",
    "input": "govuk-input",
}

_ERROR_CLASSES: dict[WidgetKind, str] = {
    "select": "govuk-select--error",
    "textarea": "govuk-textarea--error",
    "file": "govuk-file-upload--error",
    "password": "govuk-input--error",
    "input": "govuk-input--error",
}


def widget_kind(widget: forms.Widget) -> WidgetKind:
    """Which GOV.UK component renders this widget. Subclasses come before their parents."""
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.PasswordInput):
        return "password"
    return "input"


@register.filter
def govuk_kind(field: BoundField) -> WidgetKind:
    return widget_kind(field.field.widget)


@register.filter
def govuk_field_id(field: BoundField) -> str:
    """The id of the field's first control: the label's target and the error summary's link.

    For radios and checkboxes `field.html` gives the first option the field's own id, as GOV.UK
    Frontend does, so that `#id_<name>` lands on it.
    """
    auto_id = field.auto_id or ""
    widget = field.field.widget
    if not auto_id or isinstance(widget, forms.RadioSelect):
        return auto_id
    if isinstance(widget, forms.MultiWidget):
        return f"{auto_id}_0"
    return field.id_for_label or auto_id


@register.filter
def govuk_hint_id(field: BoundField) -> str:
    return f"{govuk_field_id(field)}-hint"


@register.filter
def govuk_error_id(field: BoundField) -> str:
    return f"{govuk_field_id(field)}-error"


@register.filter
def govuk_describedby(field: BoundField) -> str:
    """Space-separated ids of the field's hint and error message, those that are shown."""
    ids = []
    if field.help_text:
        ids.append(govuk_hint_id(field))
    if field.errors:
        ids.append(govuk_error_id(field))
    return " ".join(ids)


@register.filter
def govuk_first_field_id(form: forms.BaseForm) -> str:
    """Where a form-wide error links to: the form's first visible field."""
    for field in form.visible_fields():
        return govuk_field_id(field)
    return ""


@register.simple_tag
def govuk_widget(field: BoundField, classes: str = "", autocomplete: str = "") -> SafeString:
    """Render the field's widget with GOV.UK classes, hint and error references.

    `classes` adds to them (for example `govuk-input--width-10`), as do any classes already in
    the widget's attrs. `autofocus` is always dropped: the GOV.UK Design System advises against
    it because it moves screen reader users past the page's heading and introduction.
    """
    kind = widget_kind(field.field.widget)
    if kind == "hidden":
        return field.as_widget()

    class_names = [
        _WIDGET_CLASSES.get(kind, ""),
        str(field.field.widget.attrs.get("class", "")),
        classes,
    ]
    if field.errors:
        class_names.append(_ERROR_CLASSES.get(kind, ""))

    attrs: dict[str, str | bool] = {
        "class": " ".join(name for name in class_names if name),
        "autofocus": False,
    }
    if describedby := govuk_describedby(field):
        attrs["aria-describedby"] = describedby
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if kind == "password":
        attrs["spellcheck"] = "false"
        attrs["autocapitalize"] = "none"
    return field.as_widget(attrs=attrs)


class BeforeContentNode(Node):
    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: Context) -> SafeString:
        content = self.nodelist.render(context)
        if not content.strip() or content.lstrip().startswith("<nav"):
            return content
        return format_html('<nav aria-label="Back link">{}</nav>', content)


@register.tag
def govuk_before_content(parser: Parser, token: Token) -> BeforeContentNode:
    """Put what comes before <main> (a back link) in a navigation landmark, if there is any.

    Content outside every landmark fails axe's "region" rule, and an empty landmark would clutter
    screen readers' landmark lists, so the <nav> appears only when the content is not empty and
    is not already a <nav> (GOV.UK breadcrumbs are one)::

        {% govuk_before_content %}
          {% block beforeContent %}{% endblock %}
        {% end_govuk_before_content %}
    """
    nodelist = parser.parse(("end_govuk_before_content",))
    parser.delete_first_token()
    return BeforeContentNode(nodelist)
