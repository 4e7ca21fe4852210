"""Audit rows, recorded by the kernel (temporary: delegates to tenancy until the model moves here)."""


def audit_record(**fields):
    from apps.tenancy.services import audit_record as record

    return record(**fields)
