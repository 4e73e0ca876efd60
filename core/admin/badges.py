"""Coloured labels for list columns: a choice field's value shown as one of
django-unfold's labels (its ``display(label=...)``), e.g. a state or a
status, so the eye finds the failed row without reading every cell."""

from __future__ import annotations

from unfold.decorators import display

# Unfold's label variants; a value mapped to GREY (or not mapped) is grey.
GREY = ""
BLUE = "info"
GREEN = "success"
ORANGE = "warning"
RED = "danger"
PRIMARY = "primary"


def choice_badge(model, field: str, colours: dict[str, str], *, description=None):
    """A list column showing ``model.field`` (a field with choices) as a
    coloured label, sortable on the field::

        class ChargePointAdmin(ModelAdmin):
            list_display = ["name", "state_badge"]
            state_badge = choice_badge(ChargePoint, "state", {"error": RED, "available": GREEN})

    ``colours`` maps a stored value to a variant above; the label's text is
    the choice's (translated) label."""
    model_field = model._meta.get_field(field)
    # Unfold shows the raw value of a pair whose key it has no colour for:
    # give every choice a colour (grey by default) so the label is shown.
    palette = {str(value): GREY for value, _label in model_field.flatchoices}
    palette.update(colours)

    def column(admin, obj):
        return str(getattr(obj, field)), getattr(obj, f"get_{field}_display")()

    column.__name__ = f"{field}_badge"
    return display(column, description=description or model_field.verbose_name, ordering=field, label=palette)
