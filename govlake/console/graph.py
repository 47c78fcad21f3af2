"""Column lineage as a layered graph, laid out on the server and drawn as SVG (no script, no
graph library): the chosen column in the middle, its upstream columns in layers to the left
(one layer per step), its downstream columns to the right. Within a layer, columns are grouped
by table. Every node links to its own graph; every edge carries its transformation."""
from __future__ import annotations

from dataclasses import dataclass, field

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 240, 34, 90, 12, 20


@dataclass
class Node:
    id: str
    level: str | None
    layer: int
    x: int = 0
    y: int = 0

    @property
    def dataset(self) -> str:
        return self.id.rsplit(".", 1)[0]

    @property
    def column(self) -> str:
        return self.id.rsplit(".", 1)[1]


@dataclass
class Link:
    source: Node
    target: Node
    transformation: str
    contract: str | None
    consumer: str | None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    width: int = 0
    height: int = 0
    consumers: list[dict] = field(default_factory=list)


def layout(start: list[dict], upstream: list[dict], downstream: list[dict], contracts: list[dict]) -> Graph:
    """`start`: [{column, level}]; `upstream`/`downstream`: edges as Context.lineage returns them
    ({depth, from, to, transformation, from_level, to_level, contract, consumer})."""
    nodes: dict[str, Node] = {s["column"]: Node(s["column"], s["level"], 0) for s in start}

    def place(name: str, level: str | None, layer: int) -> Node:
        node = nodes.get(name)
        if node is None:
            node = nodes[name] = Node(name, level, layer)
        elif abs(layer) < abs(node.layer) or (node.layer == 0 and name not in {s["column"] for s in start}):
            node.layer = layer
        return node

    links = []
    for e in sorted(upstream, key=lambda e: e["depth"]):
        target = place(e["to"], e["to_level"], -(e["depth"] - 1))
        source = place(e["from"], e["from_level"], -e["depth"])
        links.append(Link(source, target, e["transformation"], e["contract"], e["consumer"]))
    for e in sorted(downstream, key=lambda e: e["depth"]):
        source = place(e["from"], e["from_level"], e["depth"] - 1)
        target = place(e["to"], e["to_level"], e["depth"])
        links.append(Link(source, target, e["transformation"], e["contract"], e["consumer"]))
    layers = sorted({n.layer for n in nodes.values()})
    tallest = 0
    for i, layer in enumerate(layers):
        members = sorted((n for n in nodes.values() if n.layer == layer), key=lambda n: n.id)
        for j, n in enumerate(members):
            n.x, n.y = PAD + i * (NODE_W + GAP_X), PAD + j * (NODE_H + GAP_Y)
        tallest = max(tallest, len(members))
    return Graph(sorted(nodes.values(), key=lambda n: (n.layer, n.id)), links,
                 2 * PAD + len(layers) * NODE_W + max(0, len(layers) - 1) * GAP_X,
                 2 * PAD + tallest * NODE_H + max(0, tallest - 1) * GAP_Y, contracts)
