"""Strict serializer fields: JSON types are not coerced. DRF turns a number
into text for a CharField (``"description": 42`` becomes ``"42"``) and
looks a related object up with whatever it is given (``"charge_point": 1.5``
finds charge point 1); an integrator who sends the wrong type has a bug,
and should hear of it rather than file against the wrong charger."""

from __future__ import annotations

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text only: a number, a boolean, a list or an object is refused."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id is a JSON integer: not 1.5, not "1", not true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated text, e-mail and relation fields are
    the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
