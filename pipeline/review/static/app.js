// Tushu review: keyboard navigation, the plot map (Leaflet), imagery ids on screen.
// Nothing here builds HTML from plot data: values go in through textContent only.
(function () {
  "use strict";

  function typing(ev) {
    const t = ev.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  }

  // Worklist: j / k move the selection, Enter opens the plot.
  let selected = -1;
  function rows() { return Array.from(document.querySelectorAll("table[data-keynav] tbody tr")); }
  function select(i) {
    const rs = rows();
    if (!rs.length) return;
    selected = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach((r, k) => r.classList.toggle("selected", k === selected));
    rs[selected].focus();
    rs[selected].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (ev) {
    if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const nav = document.querySelector("nav.plotnav");
    if (rows().length) {
      if (ev.key === "j") { select(selected + 1); ev.preventDefault(); }
      else if (ev.key === "k") { select(selected - 1); ev.preventDefault(); }
      else if (ev.key === "Enter" && selected >= 0) { window.location = rows()[selected].dataset.href; }
    }
    if (nav) {
      if (ev.key === "n" && nav.dataset.next) window.location = nav.dataset.next;
      else if (ev.key === "p" && nav.dataset.prev) window.location = nav.dataset.prev;
      const radio = document.querySelector('input[name="decision"][data-key="' + ev.key + '"]');
      if (radio) { radio.checked = true; radio.focus(); }
    }
  });

  document.addEventListener("click", function (ev) {
    const tr = ev.target.closest && ev.target.closest("table[data-keynav] tbody tr");
    if (tr && ev.target.tagName !== "A") window.location = tr.dataset.href;
  });

  document.addEventListener("htmx:afterSwap", function () {
    selected = -1;
    const chips = document.querySelector(".chips[data-items]");
    const items = document.getElementById("items-on-screen");
    if (chips && items) items.value = chips.dataset.items;
  });

  const STYLE = {
    plot: { color: "#ffeb3b", weight: 3, fillOpacity: 0.05 },
    overlap: { color: "#e53935", weight: 2, fillOpacity: 0.15 },
    neighbour: { color: "#42a5f5", weight: 1, fillOpacity: 0.05 },
    prior: { color: "#ab47bc", weight: 2, dashArray: "4 3", fillOpacity: 0.05 },
  };

  function popup(props) {
    const div = document.createElement("div");
    const lines = [["图斑编号", props.plot_id], ["序号", props.row], ["状态", props.status],
                   ["年度", props.year], ["图层", props.layer]];
    lines.forEach(([k, v]) => {
      if (v === undefined || v === null) return;
      const p = document.createElement("div");
      p.textContent = k + ": " + v;
      div.appendChild(p);
    });
    return div;
  }

  function initMap() {
    const el = document.getElementById("map");
    if (!el || typeof L === "undefined") return;
    const map = L.map(el, { maxZoom: Number(el.dataset.maxZoom || 19) });
    if (el.dataset.basemapUrl) {
      L.tileLayer(el.dataset.basemapUrl, {
        attribution: el.dataset.basemapAttribution || "",
        maxZoom: Number(el.dataset.maxZoom || 19),
      }).addTo(map);
    }
    fetch(el.dataset.geojson, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        if (data.basemap) L.imageOverlay(data.basemap.url, data.basemap.bounds).addTo(map);
        const layer = L.geoJSON(data, {
          style: (f) => STYLE[f.properties.kind] || STYLE.neighbour,
          onEachFeature: (f, l) => {
            l.bindPopup(popup(f.properties));
            if (f.properties.kind === "neighbour" || f.properties.kind === "overlap") {
              l.on("dblclick", () => { window.location = "/plot/" + Number(f.properties.row); });
            }
          },
        }).addTo(map);
        const own = data.features.filter((f) => f.properties.kind === "plot");
        const focus = own.length ? L.geoJSON(own) : layer;
        if (focus.getBounds().isValid()) map.fitBounds(focus.getBounds().pad(1.5));
        else map.setView([0, 0], 2);
        el.dataset.ready = "1";
      });
  }
  window.addEventListener("load", initMap);
})();
