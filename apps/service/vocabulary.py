"""The controlled vocabulary of expert skills: an industry (two letters) and a skill within it
(three letters). An expert passport's code carries its main industry and skill; its `skills`
and a service order's `required_skill` are written "INDUSTRY-SKILL" (e.g. "EL-MOT").

A controlled list, so that a code's letters always mean the same thing and matching compares
codes rather than free text. Extend it here (and only here): codes already issued stay valid
because entries are never removed."""

from __future__ import annotations

INDUSTRIES: dict[str, str] = {
    "EL": "Electrical equipment",
    "ME": "Mechanical equipment",
    "AU": "Industrial automation",
    "HV": "Heating, ventilation and cooling",
    "IT": "IT and networks",
    "MD": "Medical devices",
    "LO": "Logistics and warehousing",
    "TR": "Trade and compliance",
}

SKILLS: dict[str, dict[str, str]] = {
    "EL": {"MOT": "Electric motors", "DRV": "Drives and inverters", "SWG": "Switchgear", "GEN": "Generators"},
    "ME": {"PMP": "Pumps", "CMP": "Compressors", "GBX": "Gearboxes", "MCT": "Machine tools"},
    "AU": {"PLC": "PLC programming", "ROB": "Robotics", "SEN": "Sensors and instrumentation", "HMI": "Operator panels"},
    "HV": {"CHL": "Chillers", "REF": "Refrigeration", "AHU": "Air handling"},
    "IT": {"NET": "Networks", "SRV": "Servers", "SEC": "Security"},
    "MD": {"IMG": "Imaging", "LAB": "Laboratory equipment"},
    "LO": {"WMS": "Warehouse systems", "FLT": "Forklifts and material handling", "CLD": "Cold chain"},
    "TR": {"CUS": "Customs brokerage", "AUD": "Audits and inspections", "FIN": "Trade finance"},
}

SEPARATOR = "-"


def skill_key(industry: str, skill: str) -> str:
    return f"{industry}{SEPARATOR}{skill}"


def is_industry(code: str) -> bool:
    return code in INDUSTRIES


def is_skill(industry: str, skill: str) -> bool:
    return skill in SKILLS.get(industry, {})


def is_skill_key(key: str) -> bool:
    industry, _, skill = (key or "").partition(SEPARATOR)
    return is_skill(industry, skill)


def skill_label(key: str) -> str:
    industry, _, skill = key.partition(SEPARATOR)
    return SKILLS.get(industry, {}).get(skill, key)


SKILL_KEYS: tuple[str, ...] = tuple(
    skill_key(industry, skill) for industry, skills in SKILLS.items() for skill in skills
)
