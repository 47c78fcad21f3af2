"""The lineage graph's layout: upstream layers left of the chosen column, downstream right, one
layer per step, no two nodes of a layer overlapping, every edge between placed nodes."""
from __future__ import annotations

from govlake.console import graph


def edge(depth, src, dst, transformation="identity", contract=None, consumer=None):
    return {"depth": depth, "from": src, "to": dst, "transformation": transformation, "from_level": "L3", "to_level": "L2",
            "contract": contract, "consumer": consumer}


def test_layers_follow_the_steps_on_both_sides():
    start = [{"column": "analytic.d.plate_token", "level": "L3"}]
    up = [edge(1, "base.d.plate_no", "analytic.d.plate_token", "token")]
    down = [edge(1, "analytic.d.plate_token", "app_t.s.plate_token", "token", "c1", "traffic"),
            edge(1, "analytic.d.plate_token", "app_p.x.plate_token", "token", "c2", "police"),
            edge(2, "app_t.s.plate_token", "app_t.s2.plate_token")]
    g = graph.layout(start, up, down, [{"contract": "c1", "consumer": "traffic"}])
    layer = {n.id: n.layer for n in g.nodes}
    assert layer == {"base.d.plate_no": -1, "analytic.d.plate_token": 0, "app_t.s.plate_token": 1, "app_p.x.plate_token": 1,
                     "app_t.s2.plate_token": 2}
    x = {n.id: n.x for n in g.nodes}
    assert x["base.d.plate_no"] < x["analytic.d.plate_token"] < x["app_t.s.plate_token"] < x["app_t.s2.plate_token"]
    same = sorted((n.y for n in g.nodes if n.layer == 1))
    assert same[1] - same[0] >= graph.NODE_H
    assert all(n.x + graph.NODE_W <= g.width and n.y + graph.NODE_H <= g.height for n in g.nodes)
    assert {(link.source.id, link.target.id) for link in g.links} == {(e["from"], e["to"]) for e in up + down}


def test_a_few_hundred_columns_stay_inside_the_drawing():
    start = [{"column": "base.t.c", "level": "L2"}]
    down = [edge(1, "base.t.c", f"analytic.a{i // 10}.c{i}") for i in range(300)]
    g = graph.layout(start, [], down, [])
    assert len(g.nodes) == 301 and len({(n.x, n.y) for n in g.nodes}) == 301
    assert max(n.y for n in g.nodes) + graph.NODE_H <= g.height
