"""Exact cell coverage of polygons on a grid, for every polygon at once, in numpy.

The area of a polygon inside each cell, by signed-area accumulation (as font rasterisers
do): every ring edge is cut where it crosses a grid line; a piece inside cell (row j,
col i) with vertical extent ``dy`` and mean column offset ``fx`` (0–1) inside the cell adds
``dy · (1 − fx)`` to cell i and ``dy · fx`` to cell i + 1 of row j; a running sum along each
row then gives the covered area of every cell (1 inside, the exact share on the boundary, 0
outside), exterior rings counting positive and holes negative. All edges of all polygons
are cut, and all rows summed, in a few vectorised passes: no Python per polygon or cell.
The cells and shares are those of exactextract's ``cell_id`` / ``coverage`` to float
rounding (tested), in the same order (row-major within each polygon's bounding box).
"""

from __future__ import annotations

import numpy as np
import shapely

#: shares below this (of a cell) are rounding noise of the running sums, not coverage
MIN_SHARE = 1e-13


def polygon_coverage(
    polys: np.ndarray, x0: float, y_top: float, res: float, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(plot, cell, share) of every cell of the grid (origin ``x0``, ``y_top``, square
    ``res`` cells, ``shape`` = (rows, cols), north up) covered by the (multi)polygons
    ``polys`` (shapely array in the grid's CRS; None / empty allowed): ``plot`` the position
    in ``polys``, ``cell`` the row-major cell index, ``share`` the covered share (0–1]."""
    ny, nx = shape
    ok = ~(shapely.is_missing(polys) | shapely.is_empty(polys))
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not ok.any():
        return empty
    pos = np.flatnonzero(ok)
    oriented = shapely.orient_polygons(polys[ok])  # exteriors counter-clockwise, holes not
    parts, part_of = shapely.get_parts(oriented, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, ring_idx = shapely.get_coordinates(rings, return_index=True)
    plot_of_pt = part_of[ring_of[ring_idx]]
    # grid coordinates: columns to the east, rows downward (this flips orientation)
    gx = (xy[:, 0] - x0) / res
    gy = (y_top - xy[:, 1]) / res
    same = ring_idx[1:] == ring_idx[:-1]
    a, b = np.flatnonzero(same), np.flatnonzero(same) + 1
    ex0, ey0, ex1, ey1 = gx[a], gy[a], gx[b], gy[b]
    edge_plot = plot_of_pt[a]
    # per plot: bounding box in cells (one spare column for the spill to i + 1)
    n = len(pos)
    cmin = np.floor(_group_min(gx, plot_of_pt, n)).astype(np.int64)
    cmax = np.floor(_group_max(gx, plot_of_pt, n)).astype(np.int64)
    rmin = np.floor(_group_min(gy, plot_of_pt, n)).astype(np.int64)
    rmax = np.floor(_group_max(gy, plot_of_pt, n)).astype(np.int64)
    width = cmax - cmin + 2
    height = rmax - rmin + 1
    offset = np.concatenate([[0], np.cumsum(width * height)])
    pe, pi, pj, dy, fx = _cut_edges(ex0, ey0, ex1, ey1)
    pp = edge_plot[pe]
    flat = offset[pp] + (pj - rmin[pp]) * width[pp] + (pi - cmin[pp])
    acc = np.bincount(flat, dy * (1.0 - fx), minlength=offset[-1])
    acc += np.bincount(flat + 1, dy * fx, minlength=offset[-1] + 1)[:-1]
    # running sums along each buffer row (each row sums to zero: no drift between rows)
    cover = np.cumsum(acc)
    row_len = np.repeat(width, height)
    starts = np.concatenate([[0], np.cumsum(row_len)[:-1]])
    before = np.where(starts > 0, cover[np.maximum(starts - 1, 0)], 0.0)
    cover -= np.repeat(before, row_len)
    # buffer position -> plot, row, col
    plot_b = np.repeat(np.arange(n), width * height)
    local = np.arange(offset[-1]) - offset[plot_b]
    r = rmin[plot_b] + local // width[plot_b]
    c = cmin[plot_b] + local % width[plot_b]
    keep = (cover > MIN_SHARE) & (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
    share = np.minimum(cover[keep], 1.0)
    return pos[plot_b[keep]], (r[keep] * nx + c[keep]).astype(np.int64), share


def _group_min(v: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, g, v)
    return out


def _group_max(v: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, g, v)
    return out


def _cut_edges(x0, y0, x1, y1):
    """Every edge cut at the grid lines it crosses: per piece its edge, cell column and
    row, vertical extent and mean column offset in the cell. First at the vertical lines
    (column segments), then each segment at the horizontal lines: no sorting."""
    # column segments: edge e split where x crosses integers, in order along the edge
    e, ta, tb = _split(x0, x1)
    dx, dy = x1[e] - x0[e], y1[e] - y0[e]
    xa, xb = x0[e] + ta * dx, x0[e] + tb * dx
    ya, yb = y0[e] + ta * dy, y0[e] + tb * dy
    col = np.floor(0.5 * (xa + xb)).astype(np.int64)
    # pieces: each column segment split where y crosses integers
    s, ua, ub = _split(ya, yb)
    sx, sy = xb[s] - xa[s], yb[s] - ya[s]
    xm = xa[s] + 0.5 * (ua + ub) * sx
    pya, pyb = ya[s] + ua * sy, ya[s] + ub * sy
    row = np.floor(0.5 * (pya + pyb)).astype(np.int64)
    i = col[s]
    fx = np.clip(xm - i, 0.0, 1.0)
    return e[s], i, row, pyb - pya, fx


def _split(v0: np.ndarray, v1: np.ndarray):
    """Segments v0 → v1 cut where v crosses integers: per piece (segment after segment,
    in order along it) the segment and the piece's start and end parameters t (0–1)."""
    count = np.abs(np.floor(v1) - np.floor(v0)).astype(np.int64) + 1  # pieces per segment
    seg = np.repeat(np.arange(len(v0)), count)
    first = np.cumsum(count) - count
    k = np.arange(count.sum()) - np.repeat(first, count)  # 0 … count−1 within the segment
    a, b, d = v0[seg], v1[seg], v1[seg] - v0[seg]
    line = np.where(b > a, np.floor(a) + k, np.floor(a) - k + 1)  # the line a piece ends past
    with np.errstate(invalid="ignore", divide="ignore"):
        t_end = np.where(d != 0, (np.where(b > a, line + 1, line - 1) - a) / d, 1.0)
        t_start = np.where(d != 0, (line - a) / d, 0.0)
    last = np.ones(len(seg), bool)
    last[:-1] = seg[1:] != seg[:-1]
    t_end = np.where(last, 1.0, t_end)
    t_start = np.where(k == 0, 0.0, t_start)
    return seg, np.clip(t_start, 0.0, 1.0), np.clip(t_end, 0.0, 1.0)
