"""Generator of the plot-file fixture set: the same county plots in every format, encoding,
CRS and field convention counties send (no binary blobs in the repository; all made here).

Base plots (UTM 50N squares near 117.6°E 26.5°N, Chinese field names, EPSG:4490 in the file):
row 0 a 100 m square (15 亩), row 1 a 100 m square with a 20 m hole and a second part, row 2 a
self-intersecting (bow-tie) ring, row 3 a null geometry, rows 4 and 5 share an id, row 6 has
repeated vertices.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

from tests.synthetic import UTM, X0, Y0, square

GK_PLAIN = "EPSG:4548"  # CGCS2000 3-degree Gauss-Krüger CM 117°E, no zone prefix
GK_PREFIX = "EPSG:4527"  # the same zone (39) with the zone number in the easting
N_PLOTS = 7
SQUARE_MU = 15.0  # a 100 m square in 亩


def bowtie() -> shapely.Polygon:
    return shapely.Polygon(
        [(X0 + 900, Y0), (X0 + 1000, Y0 + 100), (X0 + 1000, Y0), (X0 + 900, Y0 + 100)]
    )


def base_geometries() -> list:
    """The plots' geometries in UTM 50N (metres)."""
    holed = shapely.Polygon(
        square(300, 0, 100).exterior.coords, [square(340, 40, 20).exterior.coords[::-1]]
    )
    multi = shapely.MultiPolygon([holed, square(500, 0, 50)])
    dup_vertices = shapely.Polygon(
        [
            (X0 + 1200, Y0),
            (X0 + 1300, Y0),
            (X0 + 1300, Y0),
            (X0 + 1300, Y0 + 100),
            (X0 + 1200, Y0 + 100),
        ]
    )
    return [
        square(0, 0, 100),
        multi,
        bowtie(),
        None,
        square(0, 300, 100),
        square(300, 300, 100),
        dup_vertices,
    ]


def base_layer() -> gpd.GeoDataFrame:
    """The base plots with Chinese field names, in EPSG:4490."""
    data = {
        "图斑编号": [
            "明溪-001",
            "明溪-002",
            "明溪-003",
            "明溪-004",
            "明溪-005",
            "明溪-005",
            "明溪-007",
        ],
        "县": ["明溪县"] * 6 + ["350421"],
        "乡镇": ["城关乡", "夏阳乡", "城关乡", "城关乡", "瀚仙镇", "瀚仙镇", "城关乡"],
        "阶段": ["造林验收", "设计施工", "2", "造林验收", "design", "造林验收", "造林验收"],
        "造林年度": ["2021年", "2022", "2022年", "2021", "2022", "2022", "2023年度"],
        "上报面积": ["15亩", "15.5", "12", "15", "15", "15", "15.0亩"],
        "树种": ["杉木", "马尾松", "木荷", "杉木", "桉树", "杉木", "杉木"],
    }
    return gpd.GeoDataFrame(data, geometry=base_geometries(), crs=UTM).to_crs(4490)


def pinyin_layer() -> gpd.GeoDataFrame:
    """The base plots as a pinyin-field export: MIAN_JI in hectares, no 图斑编号."""
    base = base_layer()
    return gpd.GeoDataFrame(
        {
            "XIAN": ["明溪县"] * N_PLOTS,
            "XIANG": base["乡镇"],
            "CUN": ["胡坊村"] * N_PLOTS,
            "LIN_BAN": ["012"] * N_PLOTS,
            "XIAO_BAN": [f"{k:03d}" for k in range(1, N_PLOTS + 1)],
            "MIAN_JI": [1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 1.0],
            "ZLND": [2021.0, 2022.0, 2022.0, 2021.0, 2022.0, 2022.0, 2023.0],
            "JIE_DUAN": ["2", "1", "2", "2", "2", "2", "2"],
            "YOU_SHI_SZ": base["树种"],
            "ZAO_LIN_LB": ["人工造林"] * N_PLOTS,
        },
        geometry=base.geometry.values,
        crs=4490,
    )


def _remove(path: Path, *exts: str) -> None:
    for ext in exts:
        p = path.with_suffix(ext)
        if p.exists():
            os.remove(p)


def _set_ldid(dbf: Path, ldid: int) -> None:
    """Write the DBF language driver byte (29), as ArcGIS does for code page 936 (77)."""
    with open(dbf, "r+b") as fh:
        fh.seek(29)
        fh.write(bytes([ldid]))


def write_fixtures(root: Path) -> dict[str, Path]:
    """Write every fixture file under ``root``; returns name → path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    base = base_layer()
    out: dict[str, Path] = {}

    def shp(name: str, gdf: gpd.GeoDataFrame, encoding: str = "UTF-8") -> Path:
        path = root / f"{name}.shp"
        gdf.to_file(path, encoding=encoding, engine="pyogrio")
        out[name] = path
        return path

    p = shp("gbk_no_cpg", base, "GBK")  # GBK, no .cpg, no language byte
    _remove(p, ".cpg")
    p = shp("gbk_ldid", base, "GBK")  # GBK, no .cpg, language driver byte 77 (code page 936)
    _remove(p, ".cpg")
    _set_ldid(p.with_suffix(".dbf"), 77)
    # UTF-8 with a .cpg; DBF names hold 10 bytes, so long Chinese names become pinyin codes.
    short = {"图斑编号": "TBBH", "造林年度": "ZLND", "上报面积": "SBMJ"}
    shp("utf8_cpg", base.rename(columns=short))
    p = shp("no_crs", base, "GBK")  # no .prj
    _remove(p, ".prj")
    shp("pinyin_ha", pinyin_layer(), "GBK")

    gdb = root / "plots.gdb"
    base.to_crs(GK_PLAIN).to_file(
        gdb, layer="造林图斑", driver="OpenFileGDB", engine="pyogrio", promote_to_multi=True
    )
    out["filegdb"] = gdb
    out["gk_prefix"] = root / "gk_prefix.gpkg"
    base.to_crs(GK_PREFIX).to_file(out["gk_prefix"], layer="plots", engine="pyogrio")
    # The prefixed coordinates declared as the un-prefixed CRS (a common export mistake).
    out["prefix_under_plain"] = root / "prefix_under_plain.gpkg"
    base.to_crs(GK_PREFIX).set_crs(GK_PLAIN, allow_override=True).to_file(
        out["prefix_under_plain"], engine="pyogrio"
    )
    swapped = base.to_crs(GK_PLAIN)
    swapped = swapped.set_geometry(shapely.transform(swapped.geometry.values, lambda c: c[:, ::-1]))
    out["swapped"] = root / "swapped.gpkg"
    swapped.to_file(out["swapped"], engine="pyogrio")
    # Wrong zone: zone 40's coordinates (CM 120°E) declared as the 117°E zone.
    out["wrong_zone"] = root / "wrong_zone.gpkg"
    base.to_crs("EPSG:4549").set_crs(GK_PLAIN, allow_override=True).to_file(
        out["wrong_zone"], engine="pyogrio"
    )
    out["geojson"] = root / "plots.geojson"
    base.to_file(out["geojson"], driver="GeoJSON", engine="pyogrio")
    out["geoparquet"] = root / "plots.parquet"
    base.to_parquet(out["geoparquet"])
    out["zip"] = root / "plots_shp.zip"
    with zipfile.ZipFile(out["zip"], "w") as z:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            z.write(out["utf8_cpg"].with_suffix(ext), f"plots{ext}")
    out["multi_layer"] = root / "multi.gpkg"
    base.to_file(out["multi_layer"], layer="2022年造林", engine="pyogrio")
    base.iloc[:2].to_file(out["multi_layer"], layer="2021年造林", engine="pyogrio")
    return out
