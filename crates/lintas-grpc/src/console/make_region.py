#!/usr/bin/env python3
"""Makes assets/region.json, the console's map of the region, from the
world-atlas package (npm, ISC licence; Natural Earth 1:50m admin 0
countries, public domain):

    npm pack world-atlas@2 && tar xzf world-atlas-2.0.2.tgz
    python3 make_region.py package/countries-50m.json > assets/region.json

Decodes the TopoJSON arcs, keeps the ASEAN states and their neighbours
within the region's box, simplifies each ring (Douglas-Peucker, 0.04
degrees) and rounds coordinates to 0.01 degrees."""
import json
import math
import sys

# ISO 3166-1 numeric -> alpha-3, for the states drawn.
STATES = {
    "096": "BRN", "116": "KHM", "360": "IDN", "418": "LAO", "458": "MYS",
    "104": "MMR", "608": "PHL", "702": "SGP", "764": "THA", "704": "VNM",
    "626": "TLS", "156": "CHN", "356": "IND", "050": "BGD", "158": "TWN",
    "598": "PNG", "036": "AUS", "064": "BTN", "524": "NPL", "344": "HKG",
}
WEST, EAST, SOUTH, NORTH = 88, 142, -12, 29
TOLERANCE = 0.04


def simplify(points, tolerance):
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    worst, index = 0.0, 0
    for i in range(1, len(points) - 1):
        x0, y0 = points[i]
        dx, dy = x2 - x1, y2 - y1
        if dx == 0 and dy == 0:
            d = math.hypot(x0 - x1, y0 - y1)
        else:
            d = abs(dy * x0 - dx * y0 + x2 * y1 - y2 * x1) / math.hypot(dx, dy)
        if d > worst:
            worst, index = d, i
    if worst > tolerance:
        return simplify(points[: index + 1], tolerance)[:-1] + simplify(points[index:], tolerance)
    return [points[0], points[-1]]


def main(path):
    topo = json.load(open(path))
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indices):
        out = []
        for i in indices:
            a = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            out.extend(a if not out else a[1:])
        return out

    countries = []
    for g in topo["objects"]["countries"]["geometries"]:
        code = STATES.get(str(g.get("id")))
        if not code:
            continue
        polygons = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        rings = []
        for polygon in polygons:
            r = ring(polygon[0])
            if not any(WEST <= x <= EAST and SOUTH <= y <= NORTH for x, y in r):
                continue
            r = simplify(r, TOLERANCE)
            if len(r) >= 4:
                rings.append([[round(x, 2), round(y, 2)] for x, y in r])
        if rings:
            countries.append({"code": code, "name": g["properties"]["name"], "rings": rings})
    json.dump(
        {
            "source": "Natural Earth 1:50m admin 0 countries (public domain), via the world-atlas "
            "package 2.0.2 (ISC licence, Copyright 2013-2019 Michael Bostock); simplified "
            "(Douglas-Peucker, 0.04 degrees) and cut to the region by "
            "crates/lintas-grpc/src/console/make_region.py",
            "bbox": [WEST, SOUTH, EAST, NORTH],
            "countries": countries,
        },
        sys.stdout,
        separators=(",", ":"),
    )


if __name__ == "__main__":
    main(sys.argv[1])
