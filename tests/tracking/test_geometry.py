"""Geometry on the sphere: distances, a route's corridor distance and progress, geofence
containment. Pure functions: no database."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.tracking.geometry import (
    EARTH_RADIUS_M,
    LocalProjection,
    Polygon,
    Route,
    haversine_m,
    path_length_m,
    within_circle,
)

HAMBURG = (53.5511, 9.9937)
BERLIN = (52.5200, 13.4050)
WARSAW = (52.2297, 21.0122)

# Where road freight goes: away from the poles, a route's legs up to a few hundred kilometers.
latitudes = st.floats(min_value=-60, max_value=70, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False, exclude_max=True)


@st.composite
def routes(draw):
    start_latitude, start_longitude = draw(latitudes), draw(longitudes)
    steps = draw(
        st.lists(
            st.tuples(st.floats(min_value=-2, max_value=2), st.floats(min_value=-2, max_value=2)),
            min_size=1,
            max_size=6,
        )
    )
    points = [(start_latitude, start_longitude)]
    for d_latitude, d_longitude in steps:
        latitude, longitude = points[-1]
        points.append((max(min(latitude + d_latitude, 75), -65), (longitude + d_longitude + 180) % 360 - 180))
    return points


def test_a_degree_of_latitude_is_the_earths_circumference_over_360():
    assert haversine_m(10.0, 20.0, 11.0, 20.0) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)


def test_hamburg_to_berlin_is_255_km():
    # The great-circle distance published for the two city centres: 255.3 km.
    assert haversine_m(*HAMBURG, *BERLIN) / 1000 == pytest.approx(255.3, abs=0.5)


def test_distances_across_the_antimeridian_take_the_short_way():
    assert haversine_m(0.0, 179.9, 0.0, -179.9) == pytest.approx(haversine_m(0.0, 0.0, 0.0, 0.2))


@given(latitudes, longitudes, latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_keeps_the_triangle_inequality(lat_a, lon_a, lat_b, lon_b, lat_c, lon_c):
    ab, ba = haversine_m(lat_a, lon_a, lat_b, lon_b), haversine_m(lat_b, lon_b, lat_a, lon_a)
    assert ab == pytest.approx(ba, abs=1e-6)
    assert ab <= haversine_m(lat_a, lon_a, lat_c, lon_c) + haversine_m(lat_c, lon_c, lat_b, lon_b) + 1e-3
    assert 0 <= ab <= math.pi * EARTH_RADIUS_M + 1e-3


def test_distances_of_arrays_are_those_of_each_pair():
    result = haversine_m([HAMBURG[0], BERLIN[0]], [HAMBURG[1], BERLIN[1]], WARSAW[0], WARSAW[1])
    assert result.tolist() == pytest.approx([haversine_m(*HAMBURG, *WARSAW), haversine_m(*BERLIN, *WARSAW)])


def test_a_path_is_as_long_as_its_legs():
    assert path_length_m([HAMBURG[0], BERLIN[0], WARSAW[0]], [HAMBURG[1], BERLIN[1], WARSAW[1]]) == pytest.approx(
        haversine_m(*HAMBURG, *BERLIN) + haversine_m(*BERLIN, *WARSAW)
    )
    assert path_length_m([HAMBURG[0]], [HAMBURG[1]]) == 0.0


@given(latitudes, longitudes, st.floats(min_value=-3, max_value=3), st.floats(min_value=-3, max_value=3))
def test_the_local_projection_comes_back_to_the_same_point(center_latitude, center_longitude, d_latitude, d_longitude):
    projection = LocalProjection(center_latitude=center_latitude, center_longitude=center_longitude)
    latitude = center_latitude + d_latitude
    longitude = (center_longitude + d_longitude + 180) % 360 - 180
    back_latitude, back_longitude = projection.inverse(*projection.forward(latitude, longitude))
    assert haversine_m(latitude, longitude, back_latitude, back_longitude) < 1e-3


def test_a_route_is_as_long_as_the_lines_between_its_waypoints():
    route = Route([HAMBURG[0], BERLIN[0], WARSAW[0]], [HAMBURG[1], BERLIN[1], WARSAW[1]])
    assert route.length_m == pytest.approx(haversine_m(*HAMBURG, *BERLIN) + haversine_m(*BERLIN, *WARSAW))


def test_a_route_needs_two_points():
    with pytest.raises(ValueError):
        Route([HAMBURG[0]], [HAMBURG[1]])


def test_a_waypoint_is_on_the_route_at_the_progress_of_the_legs_before_it():
    route = Route([HAMBURG[0], BERLIN[0], WARSAW[0]], [HAMBURG[1], BERLIN[1], WARSAW[1]])
    located = route.locate([HAMBURG[0], BERLIN[0], WARSAW[0]], [HAMBURG[1], BERLIN[1], WARSAW[1]])
    assert located.distance_m.tolist() == pytest.approx([0, 0, 0], abs=0.01)
    assert located.progress_m.tolist() == pytest.approx([0, haversine_m(*HAMBURG, *BERLIN), route.length_m])


def test_a_point_beside_the_middle_of_a_leg_is_as_far_as_it_is_beside_it():
    # A leg along the equator and a point 3 km north of its middle: the nearest point is the
    # middle, 3 km away, half the leg along.
    route = Route([0.0, 0.0], [10.0, 11.0])
    three_km_north = math.degrees(3000 / EARTH_RADIUS_M)
    located = route.locate(three_km_north, 10.5)
    assert located.distance_m[0] == pytest.approx(3000, rel=1e-3)
    assert located.progress_m[0] == pytest.approx(route.length_m / 2, rel=1e-3)


def test_a_long_east_west_route_still_measures_a_corridor_offset_to_a_few_percent():
    # Hamburg to Samara: 2,200 km east, four degrees of latitude. 2.5 km north of a point two
    # thirds of the way, the distance reported is that of the sphere.
    route = Route([53.5511, 53.1959], [9.9937, 50.1002])
    latitude = 53.5511 + (53.1959 - 53.5511) * 2 / 3
    longitude = 9.9937 + (50.1002 - 9.9937) * 2 / 3
    north = latitude + math.degrees(2500 / EARTH_RADIUS_M)
    located = route.locate(north, longitude)
    assert located.distance_m[0] == pytest.approx(2500, rel=0.05)


@settings(max_examples=60, deadline=None)
@given(routes(), st.data())
def test_points_on_a_route_are_at_no_distance_and_within_its_length(points, data):
    route = Route([point[0] for point in points], [point[1] for point in points])
    leg = data.draw(st.integers(min_value=0, max_value=len(points) - 2))
    fraction = data.draw(st.floats(min_value=0, max_value=1))
    (lat_a, lon_a), (lat_b, lon_b) = points[leg], points[leg + 1]
    # The projection is linear in degrees: a point interpolated in degrees is on the line.
    d_longitude = (lon_b - lon_a + 180) % 360 - 180
    latitude, longitude = lat_a + (lat_b - lat_a) * fraction, lon_a + d_longitude * fraction
    located = route.locate(latitude, longitude)
    assert located.distance_m[0] < 1.0
    assert 0.0 <= located.progress_m[0] <= route.length_m + 1e-6


@settings(max_examples=60, deadline=None)
@given(routes(), st.floats(min_value=-1, max_value=1), st.floats(min_value=-1, max_value=1))
def test_the_route_is_never_farther_than_its_nearest_waypoint(points, d_latitude, d_longitude):
    route = Route([point[0] for point in points], [point[1] for point in points])
    latitude = max(min(points[0][0] + d_latitude, 80), -70)
    longitude = (points[0][1] + d_longitude + 180) % 360 - 180
    nearest_waypoint = min(haversine_m(latitude, longitude, lat, lon) for lat, lon in points)
    located = route.locate(latitude, longitude)
    # The projection picks the nearest point; the sphere may disagree by its error, a few percent.
    assert located.distance_m[0] <= nearest_waypoint * 1.05 + 1.0


def test_a_route_across_the_antimeridian_is_one_short_piece():
    route = Route([10.0, 10.0], [179.5, -179.5])
    assert route.length_m == pytest.approx(haversine_m(10.0, 179.5, 10.0, -179.5))
    located = route.locate(10.0, 180.0)
    assert located.distance_m[0] < 50
    assert located.progress_m[0] == pytest.approx(route.length_m / 2, rel=1e-3)


def test_a_circle_holds_points_up_to_its_radius():
    inside_edge = haversine_m(*BERLIN, BERLIN[0] + math.degrees(499 / EARTH_RADIUS_M), BERLIN[1])
    assert inside_edge == pytest.approx(499)
    result = within_circle(
        [BERLIN[0] + math.degrees(499 / EARTH_RADIUS_M), BERLIN[0] + math.degrees(501 / EARTH_RADIUS_M)],
        [BERLIN[1], BERLIN[1]],
        center_latitude=BERLIN[0],
        center_longitude=BERLIN[1],
        radius_m=500,
    )
    assert result.tolist() == [True, False]


SQUARE = [[52.0, 13.0], [52.0, 14.0], [53.0, 14.0], [53.0, 13.0]]


def test_a_polygon_holds_its_inside_and_its_edge_not_its_outside():
    polygon = Polygon(SQUARE)
    result = polygon.contains([52.5, 52.0, 52.5, 53.5], [13.5, 13.5, 14.5, 13.5])
    assert result.tolist() == [True, True, False, False]


def test_a_closed_ring_is_the_same_polygon_as_an_open_one():
    points = ([52.5, 52.99, 53.01], [13.5, 13.99, 13.5])
    assert Polygon([*SQUARE, SQUARE[0]]).contains(*points).tolist() == Polygon(SQUARE).contains(*points).tolist()


def test_a_polygon_across_the_antimeridian_holds_points_on_both_sides():
    polygon = Polygon([[-1.0, 179.0], [-1.0, -179.0], [1.0, -179.0], [1.0, 179.0]])
    assert polygon.contains([0.0, 0.0, 0.0], [179.5, -179.5, 0.0]).tolist() == [True, True, False]


def test_a_polygon_needs_three_points():
    with pytest.raises(ValueError):
        Polygon([[52.0, 13.0], [53.0, 14.0]])
