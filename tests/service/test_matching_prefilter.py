"""The matching prefilter on a big table: the benchmark's seed (20,000 experts over a country-sized
region), every table the query reads analyzed, then the candidates of sites across the region
planned as a tenant plans them (row-level security on): through the GiST index of the area
boxes and the passports' primary key, never a sequential scan; and they are exactly the experts
a reading of every row finds (published, not OFF_DUTY, the skill's industry, the box around
the site)."""

from __future__ import annotations

import json
import random

from django.db import connection, connections

from apps.core.context import system_scope, tenant_scope
from apps.service import vocabulary
from apps.service.models import ExpertArea, ExpertPassport, ServiceOrder
from apps.service.services.matching import candidates_queryset
from bench import matching as bench_matching

AREA_INDEX = "expert_area_box_gist"


def _analyzed():
    with connections["owner"].cursor() as cursor:
        for model in (ExpertPassport, ExpertArea, ServiceOrder):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def _plan_and_ids(order) -> tuple[str, set]:
    sql, params = candidates_queryset(order).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = json.dumps(cursor.fetchone()[0])
        cursor.execute(sql, params)
        return plan, {row[0] for row in cursor.fetchall()}


def _by_reading_every_row(order) -> set:
    industry = order.required_skill.partition("-")[0]
    latitude, longitude = float(order.latitude), float(order.longitude)
    with system_scope(reason="test: every expert", audit=False):
        experts = ExpertPassport.objects.values_list(
            "id",
            "is_published",
            "work_status",
            "industry_code",
            "skills",
            "area_min_latitude",
            "area_max_latitude",
            "area_min_longitude",
            "area_max_longitude",
        )
        return {
            expert_id
            for expert_id, published, status, main, skills, lat_lo, lat_hi, lon_lo, lon_hi in experts
            if published
            and status != "OFF_DUTY"
            and (main == industry or any(skill.startswith(industry + "-") for skill in skills))
            and lat_lo <= latitude <= lat_hi
            and lon_lo <= longitude <= lon_hi
        }


def test_the_candidates_come_through_the_area_index_and_are_exactly_those_of_a_full_reading(committed, settings):
    # Given the benchmark's seed: 20,000 experts, with the tables the query reads analyzed
    settings.SERVICE = {**settings.SERVICE, "MATCHING_CANDIDATES_CAP": 100_000}
    seeded = bench_matching._seed(experts=20_000, organizations=40, orders=5, seed=7)
    _analyzed()
    rng = random.Random(3)

    # When the candidates of sites across the region are planned and read as the customer
    with tenant_scope(seeded.customer_id):
        orders = list(ServiceOrder.objects.filter(id__in=seeded.order_ids))
        for order in orders:
            order.required_skill = rng.choice(vocabulary.SKILL_KEYS)
            plan, found = _plan_and_ids(order)

            # Then PostgreSQL reads the area boxes through their GiST index, the passports by key
            assert AREA_INDEX in plan, plan
            assert '"Seq Scan"' not in plan, plan
            assert "service_expertpassport_pkey" in plan, plan
            # ... and finds what reading every row finds
            expected = _by_reading_every_row(order)
            assert found == expected
            assert 0 < len(found) < 2_000
