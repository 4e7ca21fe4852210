"""Serializers of the experts API: the profile (catalogue row and detail), its certifications,
work status, the matching results that name the expert, their service records, the skills
vocabulary and the code check."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import CountryField, StrictCharField
from apps.core.download_links import download_token
from apps.service import vocabulary
from apps.service.models import (
    ExpertCertification,
    ExpertPassport,
    ExpertType,
    MatchingResult,
    MatchStatus,
    ServiceOrder,
    WorkStatus,
)

CERTIFICATION_SALT = "service.certification"
SKILL_KEY_CHOICES = [(key, key) for key in vocabulary.SKILL_KEYS]
INDUSTRY_CHOICES = list(vocabulary.INDUSTRIES.items())
MATCH_STATUS_MOVES = [(status, label) for status, label in MatchStatus.choices if status != MatchStatus.NEW]
MAX_SKILLS = 20


def download_max_age() -> int:
    return settings.SERVICE["DOWNLOAD_URL_MAX_AGE"]


def _coordinate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, **kwargs)


class ExpertProfileFields(serializers.Serializer):
    """What a profile says besides its code, as registering it takes it (defaults for what is left out)."""

    display_name = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Default: the person's name."
    )
    professional_field = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    headline = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    years_experience = serializers.IntegerField(min_value=0, max_value=80, required=False, default=0)
    skills = serializers.ListField(
        child=serializers.ChoiceField(choices=SKILL_KEY_CHOICES),
        max_length=MAX_SKILLS,
        required=False,
        default=list,
        help_text="INDUSTRY-SKILL codes (GET /experts/skills); the main skill is always the first.",
    )
    services_offered = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    languages = serializers.ListField(
        child=StrictCharField(min_length=2, max_length=2),
        max_length=20,
        required=False,
        default=list,
        help_text="ISO 639-1 codes, e.g. en, de.",
    )
    base_location = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = _coordinate(required=False, default=None, help_text="The base point, with longitude (or neither).")
    longitude = _coordinate(required=False, default=None, help_text="The base point, with latitude (or neither).")
    service_radius_km = serializers.IntegerField(
        min_value=1, max_value=2000, required=False, default=50, help_text="How far the expert travels (km)."
    )
    is_published = serializers.BooleanField(
        required=False, default=True, help_text="Listed in every organization's catalogue."
    )


class ExpertCreateInput(ExpertProfileFields):
    user_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Whose passport (a member of your organization): yours when left out; a dispatcher "
        "(expert:manage) names another member.",
    )
    expert_type = serializers.ChoiceField(choices=ExpertType.choices, help_text="T technical, B business, A both.")
    industry_code = serializers.ChoiceField(choices=INDUSTRY_CHOICES, help_text="The main industry (in the code).")
    skill_code = StrictCharField(min_length=3, max_length=3, help_text="The main skill within the industry.")
    nationality = CountryField(help_text="ISO 3166-1 alpha-2 nationality (in the code), e.g. DE.")


class ExpertUpdateInput(ExpertProfileFields):
    """Every field optional: only those sent change. The code and what it encodes never change."""

    display_name = StrictCharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # no defaults: a field left out is not changed
            field.default = serializers.empty

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class ExpertWorkStatusInput(serializers.Serializer):
    work_status = serializers.ChoiceField(
        choices=WorkStatus.choices,
        help_text="The expert chooses IDLE, AVAILABLE, RUSHING (an active paid membership) or OFF_DUTY; "
        "BOOKED and IN_SERVICE follow their service orders (422).",
    )
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class ExpertCertificationOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="The certificate's file (a link that works for a few minutes); null without a file."
    )

    class Meta:
        model = ExpertCertification
        fields = [
            "id",
            "name",
            "issuer",
            "number",
            "issued_on",
            "expires_on",
            "filename",
            "content_type",
            "size",
            "sha256",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, certification) -> str | None:
        viewer = self.context.get("organization_id")
        if not certification.file or viewer is None:
            return None
        token = download_token(salt=CERTIFICATION_SALT, record_id=certification.id, organization_id=viewer)
        return reverse("expert-certification-file", args=[token])


class ExpertCertificationInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    issuer = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    number = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    file = serializers.FileField(required=False, help_text="The certificate: a PDF, JPEG or PNG of up to 10 MB.")


class ExpertOutput(serializers.ModelSerializer):
    """A catalogue row. `user_id` and the membership's end are shown to the expert's own
    organization only (null to others)."""

    is_own = serializers.SerializerMethodField(help_text="One of your organization's experts.")
    user_id = serializers.SerializerMethodField(help_text="The person (your organization's experts only).")
    membership_expires_at = serializers.SerializerMethodField(help_text="Your organization's experts only.")

    class Meta:
        model = ExpertPassport
        fields = [
            "id",
            "code",
            "display_name",
            "expert_type",
            "industry_code",
            "skill_code",
            "nationality",
            "professional_field",
            "headline",
            "years_experience",
            "skills",
            "languages",
            "base_location",
            "latitude",
            "longitude",
            "service_radius_km",
            "work_status",
            "membership_level",
            "rating_average",
            "rating_count",
            "completed_orders",
            "is_published",
            "is_own",
            "user_id",
            "membership_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _own(self, expert) -> bool:
        return expert.organization_id == self.context.get("organization_id")

    def get_is_own(self, expert) -> bool:
        return self._own(expert)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_user_id(self, expert):
        return expert.user_id if self._own(expert) else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_membership_expires_at(self, expert):
        if not self._own(expert) or expert.membership_expires_at is None:
            return None
        return serializers.DateTimeField().to_representation(expert.membership_expires_at)


class ExpertCodePartsOutput(serializers.Serializer):
    expert_type = StrictCharField(read_only=True)
    industry = StrictCharField(source="industry_code", read_only=True)
    skill = StrictCharField(source="skill_code", read_only=True)
    year_month = StrictCharField(read_only=True)
    nationality = StrictCharField(read_only=True)
    sequence = serializers.SerializerMethodField()
    checksum = StrictCharField(read_only=True)

    def get_sequence(self, expert) -> str:
        return f"{expert.sequence:05d}"


class ExpertDetailOutput(ExpertOutput):
    """The profile with its code's parts, what the expert offers and their certifications."""

    code_parts = ExpertCodePartsOutput(source="*", read_only=True)
    certifications = serializers.SerializerMethodField()

    class Meta(ExpertOutput.Meta):
        fields = [
            *ExpertOutput.Meta.fields,
            "code_parts",
            "services_offered",
            "work_status_changed_at",
            "certifications",
        ]
        read_only_fields = fields

    @extend_schema_field(ExpertCertificationOutput(many=True))
    def get_certifications(self, expert) -> list:
        return ExpertCertificationOutput(expert.certifications.all(), many=True, context=self.context).data


class ExpertMatchOutput(serializers.ModelSerializer):
    """A service order proposed to the expert, as they read it before it is theirs: its summary
    (title, urgency, where, when), the score and why (`breakdown` sums to `score`), the rank
    among the candidates, and the live offer's state."""

    source_id = serializers.UUIDField(read_only=True)
    target_id = serializers.UUIDField(read_only=True, help_text="The expert.")
    summary = serializers.DictField(read_only=True, help_text="What the source is about: title, urgency, where, when.")
    breakdown = serializers.DictField(read_only=True, help_text="Each factor's share of the score.")

    class Meta:
        model = MatchingResult
        fields = [
            "id",
            "source_type",
            "source_id",
            "target_type",
            "target_id",
            "summary",
            "score",
            "breakdown",
            "rank",
            "distance_km",
            "status",
            "offer_status",
            "offer_round",
            "offered_at",
            "responded_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ExpertMatchStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=MATCH_STATUS_MOVES)


class ExpertServiceRecordOutput(serializers.ModelSerializer):
    class Meta:
        model = ServiceOrder
        fields = [
            "id",
            "number",
            "title",
            "status",
            "urgency",
            "passport_code",
            "device_name",
            "accepted_at",
            "completed_at",
            "work_done",
            "created_at",
        ]
        read_only_fields = fields


class ExpertSkillOutput(serializers.Serializer):
    code = StrictCharField(help_text="Three letters, the code's SKILL part.")
    key = StrictCharField(help_text="INDUSTRY-SKILL, as skills and service orders write it.")
    name = StrictCharField()


class ExpertIndustryOutput(serializers.Serializer):
    code = StrictCharField(help_text="Two letters, the code's INDUSTRY part.")
    name = StrictCharField()
    skills = ExpertSkillOutput(many=True)


class ExpertVocabularyOutput(serializers.Serializer):
    industries = ExpertIndustryOutput(many=True)
    keys = serializers.ListField(child=StrictCharField(), help_text="Every INDUSTRY-SKILL key.")


def vocabulary_body() -> dict:
    return {
        "industries": [
            {
                "code": industry,
                "name": name,
                "skills": [
                    {"code": skill, "key": vocabulary.skill_key(industry, skill), "name": label}
                    for skill, label in vocabulary.SKILLS[industry].items()
                ],
            }
            for industry, name in vocabulary.INDUSTRIES.items()
        ],
        "keys": list(vocabulary.SKILL_KEYS),
    }


class ExpertCodeValidateInput(serializers.Serializer):
    code = StrictCharField(max_length=64, trim_whitespace=False, help_text="As typed: spaces and case are forgiven.")


class ExpertCodeCheckOutput(serializers.Serializer):
    code = StrictCharField(read_only=True, help_text="The code as read (spaces dropped, upper case).")
    valid = serializers.BooleanField(read_only=True)
    parts = serializers.DictField(
        child=StrictCharField(), read_only=True, help_text="prefix, expert_type, industry, skill, year_month, ..."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=StrictCharField()),
        read_only=True,
        help_text="What is wrong, by part (`code` when the parts cannot be told apart).",
    )
