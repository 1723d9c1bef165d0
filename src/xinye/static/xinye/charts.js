/* Every map and chart of Xinye, drawn with ECharts from data the page carries in
 * <script type="application/json"> blocks (Django's json_script).
 *
 * A chart is an element <div data-chart="KIND" data-source="ID"> where ID names the json_script block.
 * Names on the maps (stations, communities, organizations, people) are typed by users. ECharts puts what a
 * tooltip formatter returns into the page as HTML, so every tooltip here goes through tip(), which escapes:
 * a name is always text, never markup. Labels drawn on the canvas are text already and are not escaped.
 * The page's Content-Security-Policy allows no inline script, so this file is the only code that runs.
 */
(function () {
  'use strict';

  var ENTITIES = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

  function escapeHtml(value) {
    return String(value === null || value === undefined ? '' : value).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  }

  /* A tooltip from plain-text lines: each escaped, joined by line breaks. */
  function tip() {
    var lines = [];
    for (var i = 0; i < arguments.length; i++) {
      if (arguments[i] !== null && arguments[i] !== undefined && arguments[i] !== '') {
        lines.push(escapeHtml(arguments[i]));
      }
    }
    return lines.join('<br>');
  }

  function nameTip(p) { return tip(p.name); }

  /* Every chart's tooltip. confine keeps it inside the chart (phones) and, as a side effect, stops ECharts
   * from adding its arrow, which it builds as HTML with a style attribute that the policy would block. */
  function tooltip(formatter) { return {trigger: 'item', confine: true, formatter: formatter || nameTip}; }

  function source(el) {
    var block = document.getElementById(el.getAttribute('data-source'));
    return block ? JSON.parse(block.textContent) : null;
  }

  function hasFeatures(geo) { return !!(geo && geo.features && geo.features.length); }

  var AREA = {areaColor: '#f7f3f3', borderColor: '#b8202b'};

  var KINDS = {
    /* A division's districts and its communities (places/division_detail.html). */
    division: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('division', d.geo);
      return {
        tooltip: tooltip(),
        geo: {map: 'division', roam: true, itemStyle: {areaColor: '#fbeaea', borderColor: '#b8202b'},
              emphasis: {itemStyle: {areaColor: '#f6cfcf'}}, label: {show: true, fontSize: 11}},
        series: [{type: 'scatter', coordinateSystem: 'geo', symbolSize: 4,
                  itemStyle: {color: '#1d1d1f', opacity: 0.6}, data: d.points}]
      };
    },
    /* The public station finder: stations near the worker and the worker (stations/finder.html). */
    finder: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('finder', d.geo);
      return {
        tooltip: tooltip(),
        geo: {map: 'finder', roam: true, center: d.me, zoom: 6, itemStyle: AREA},
        series: [{type: 'scatter', coordinateSystem: 'geo', data: d.points, symbol: 'pin', symbolSize: 22,
                  itemStyle: {color: '#1e7a3c'}},
                 {type: 'scatter', coordinateSystem: 'geo', data: [{value: d.me, name: ''}], symbolSize: 12,
                  itemStyle: {color: '#1f6fb2'}}]
      };
    },
    /* Stations and work cells no station reaches (stations/coverage.html). */
    coverage: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('coverage', d.geo);
      var max = 1;
      d.uncovered.forEach(function (p) { if (p.value[2] > max) max = p.value[2]; });
      return {
        tooltip: tooltip(),
        geo: {map: 'coverage', roam: true, itemStyle: AREA},
        series: [{type: 'scatter', coordinateSystem: 'geo', data: d.uncovered,
                  symbolSize: function (v) { return 3 + 12 * Math.sqrt(v[2] / max); },
                  itemStyle: {color: '#c0392b', opacity: 0.6}},
                 {type: 'scatter', coordinateSystem: 'geo', data: d.stations, symbolSize: 4,
                  itemStyle: {color: '#1e7a3c'}}]
      };
    },
    /* Vanguard and model posts, and volunteer activities (volunteering/overview.html). */
    volunteering: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('volunteering', d.geo);
      return {
        tooltip: tooltip(),
        geo: {map: 'volunteering', roam: true, itemStyle: AREA},
        series: [{type: 'scatter', coordinateSystem: 'geo', data: d.posts, symbolSize: 10,
                  itemStyle: {color: '#1e7a3c'}},
                 {type: 'scatter', coordinateSystem: 'geo', data: d.activities, symbolSize: 8,
                  itemStyle: {color: '#e67e22'}}]
      };
    },
    /* Existing stations and the chosen new sites (stations/placement.html). */
    placement: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('placement', d.geo);
      return {
        tooltip: tooltip(),
        geo: {map: 'placement', roam: true, itemStyle: AREA},
        series: [{type: 'scatter', coordinateSystem: 'geo', data: d.stations, symbolSize: 4,
                  itemStyle: {color: '#1e7a3c'}},
                 {type: 'scatter', coordinateSystem: 'geo', data: d.picks, symbolSize: 16,
                  itemStyle: {color: '#e67e22'},
                  /* canvas text: the pick's rank, a number the server sends; never the name */
                  label: {show: true, color: '#fff', fontSize: 10,
                          formatter: function (p) { return String(Number(p.data && p.data.rank) || ''); }}}]
      };
    },
    /* Community-based branches: communities coloured by branch, linked to their anchor
     * (organizations/_branch_map.html). */
    branches: function (d) {
      if (!hasFeatures(d.geo)) return null;
      echarts.registerMap('branches', d.geo);
      return {
        tooltip: tooltip(),
        geo: {map: 'branches', roam: true, itemStyle: AREA, label: {show: true, fontSize: 10, color: '#666'}},
        series: [{type: 'lines', coordinateSystem: 'geo', data: d.links, lineStyle: {width: 1, opacity: 0.6},
                  silent: true},
                 {type: 'scatter', coordinateSystem: 'geo', data: d.points, symbolSize: 5},
                 {type: 'scatter', coordinateSystem: 'geo', data: d.anchors, symbol: 'pin', symbolSize: 18}]
      };
    },
    /* Workers by occupation (reports/dashboard.html). */
    occupations: function (d) {
      if (!d || !d.length) return null;
      return {
        tooltip: tooltip(function (p) { return tip(p.name + ': ' + p.value + ' (' + p.percent + '%)'); }),
        series: [{type: 'pie', radius: ['35%', '65%'], data: d, label: {formatter: '{b}\n{d}%'}}]
      };
    }
  };

  /* == hE: maps people can read (issue 16) ==
   * The base map: where the deployment configures a tile source (settings XINYE_MAP_TILES, carried by the
   * page's "map-config" block), its tiles are drawn beneath the divisions on a Web Mercator projection, with
   * the attribution; when none is configured the page asks nothing of anyone and the outlines stand alone.
   * Tiles in GCJ-02 (Amap, Tencent) sit about 500 m off WGS-84: the overlays are shifted to match them.
   * Shading: a map's data may carry "shade" (places/maps.py choropleth): divisions coloured by class, the
   * legend printed beside the map by the page. */
  var BASE = (function () {
    var block = document.getElementById('map-config');
    var c = block ? JSON.parse(block.textContent) : null;
    return c && c.tiles && c.tiles.layers && c.tiles.layers.length ? c : null;
  })();

  /* WGS-84 -> GCJ-02 (the published form of GB 20263-2006's offset; identity outside China). */
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;
  function gcjLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  }
  function gcjLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  }
  function toGcj02(lon, lat) {
    if (!(lon > 72.004 && lon < 137.8347 && lat > 0.8293 && lat < 55.8271)) return [lon, lat];
    var dLat = gcjLat(lon - 105, lat - 35), dLon = gcjLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - GCJ_EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = dLat * 180 / ((GCJ_A * (1 - GCJ_EE)) / (magic * sq) * Math.PI);
    dLon = dLon * 180 / (GCJ_A / sq * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  /* Every [lon, lat] of a map's data (GeoJSON rings, point values, line coords) shifted in place. */
  function shiftAll(d) {
    function pos(p) { var q = toGcj02(p[0], p[1]); p[0] = q[0]; p[1] = q[1]; }
    function rings(c) { if (typeof c[0] === 'number') pos(c); else c.forEach(rings); }
    if (d.geo && d.geo.features) d.geo.features.forEach(function (f) { if (f.geometry) rings(f.geometry.coordinates); });
    Object.keys(d).forEach(function (k) {
      if (k === 'geo' || !Array.isArray(d[k])) return;
      if (k === 'me') { pos(d[k]); return; }
      d[k].forEach(function (item) {
        if (item && Array.isArray(item.value)) pos(item.value);
        if (item && Array.isArray(item.coords)) item.coords.forEach(pos);
      });
    });
    return d;
  }

  var DEG = 180 / Math.PI;
  var MERCATOR = {
    project: function (c) { return [c[0], -DEG * Math.log(Math.tan(Math.PI / 4 + c[1] / DEG / 2))]; },
    unproject: function (p) { return [p[0], DEG * (2 * Math.atan(Math.exp(-p[1] / DEG)) - Math.PI / 2)]; }
  };

  function tileLon(x, z) { return x / Math.pow(2, z) * 360 - 180; }
  function tileLat(y, z) { var n = Math.PI * (1 - 2 * y / Math.pow(2, z)); return DEG * Math.atan(Math.sinh(n)); }

  /* The tiles that cover the chart's view, as graphic images in pixels (at most 80 a layer). */
  function tiles(chart) {
    var w = chart.getWidth(), h = chart.getHeight();
    /* pixels are linear in the projected coordinates: the scale from two points, and back from pixels by
     * hand (convertFromPixel gives projected, not geographic, coordinates) */
    var A = [0, 0], B = [90, 60];
    var a = chart.convertToPixel({geoIndex: 0}, A), b = chart.convertToPixel({geoIndex: 0}, B);
    if (!a || !b) return [];
    var PA = MERCATOR.project(A), PB = MERCATOR.project(B);
    var sx = (b[0] - a[0]) / (PB[0] - PA[0]), sy = (b[1] - a[1]) / (PB[1] - PA[1]);
    function fromPixel(px, py) { return MERCATOR.unproject([PA[0] + (px - a[0]) / sx, PA[1] + (py - a[1]) / sy]); }
    var world = 360 * Math.abs(sx);
    var z = Math.max(0, Math.min(BASE.tiles.max_zoom, Math.round(Math.log(world / 256) / Math.LN2)));
    var n = Math.pow(2, z);
    var nw = fromPixel(0, 0), se = fromPixel(w, h);
    function col(lon) { return Math.floor((lon + 180) / 360 * n); }
    function row(lat) {
      lat = Math.max(-85.05, Math.min(85.05, lat));
      var r = lat / DEG;
      return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n);
    }
    var x0 = Math.max(0, col(nw[0])), x1 = Math.min(n - 1, col(se[0]));
    var y0 = Math.max(0, row(nw[1])), y1 = Math.min(n - 1, row(se[1]));
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 80) return [];
    var out = [];
    BASE.tiles.layers.forEach(function (urls, li) {
      for (var x = x0; x <= x1; x++) {
        for (var y = y0; y <= y1; y++) {
          var p = chart.convertToPixel({geoIndex: 0}, [tileLon(x, z), tileLat(y, z)]);
          var q = chart.convertToPixel({geoIndex: 0}, [tileLon(x + 1, z), tileLat(y + 1, z)]);
          var url = urls[(x + y) % urls.length].replace('{z}', z).replace('{x}', x).replace('{y}', y);
          out.push({type: 'image', silent: true, z: -10 + li,
                    style: {image: url, x: p[0], y: p[1], width: q[0] - p[0], height: q[1] - p[1]}});
        }
      }
    });
    if (BASE.attribution) {
      out.push({type: 'text', silent: true, right: 6, bottom: 4, z: 100,
                style: {text: BASE.attribution, fontSize: 10, fill: '#333', backgroundColor: 'rgba(255,255,255,.7)',
                        padding: [1, 3]}});
    }
    return out;
  }

  function withBase(chart) {
    var pending = false;
    function update() {
      pending = false;
      chart.setOption({graphic: {elements: tiles(chart)}}, {replaceMerge: ['graphic']});
    }
    function later() { if (!pending) { pending = true; window.requestAnimationFrame(update); } }
    chart.on('georoam', later);
    chart.on('finished', function once() { chart.off('finished', once); update(); });
    window.addEventListener('resize', later);
  }

  function translucent(hex, alpha) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    return m ? 'rgba(' + parseInt(m[1], 16) + ',' + parseInt(m[2], 16) + ',' + parseInt(m[3], 16) + ',' + alpha + ')' : hex;
  }

  function percentOrCount(shade, v) {
    if (v === null || v === undefined || isNaN(v)) return '';
    return shade.percent ? Math.round(v * 100) + '%' : Number(v).toLocaleString();
  }

  /* Adds the shading and, with a base map, the projection and translucent areas to a map's option. */
  function decorate(option, d) {
    if (!option.geo) return option;
    var shade = d.shade;
    if (shade && shade.pieces && shade.pieces.length) {
      var last = shade.pieces.length - 1;
      option.series.unshift({
        type: 'map', geoIndex: 0, data: shade.data,
        tooltip: {formatter: function (p) { return tip(p.name, percentOrCount(shade, p.value) + ' · ' + shade.unit); }}
      });
      option.visualMap = {type: 'piecewise', show: false, seriesIndex: 0, dimension: 0,
        pieces: shade.pieces.map(function (p, i) {
          var piece = i === last ? {gte: p.min, lte: p.max} : {gte: p.min, lt: p.max};
          piece.color = BASE ? translucent(p.color, 0.55) : p.color;  /* the streets show through */
          return piece;
        })};
    }
    if (BASE) {
      option.geo.projection = MERCATOR;
      var style = option.geo.itemStyle || {};
      option.geo.itemStyle = {areaColor: 'rgba(255,255,255,0.05)', borderColor: style.borderColor || '#b8202b',
                              borderWidth: 1.5};
    }
    return option;
  }

  var MAPS = {division: 1, coverage: 1, placement: 1, branches: 1};

  function draw(el) {
    var name = el.getAttribute('data-chart'), kind = KINDS[name];
    if (!kind || !window.echarts) return;
    var d = source(el);
    if (d && MAPS[name] && BASE && BASE.tiles.datum === 'gcj02') d = shiftAll(d);
    var option = kind(d);
    if (!option) return;
    if (MAPS[name]) option = decorate(option, d);
    var chart = echarts.init(el);
    chart.setOption(option);
    /* A map whose data carries "drill" (a division's name -> the page one level down, a relative address the
     * server made) opens that page when the division is chosen. */
    if (d && d.drill) {
      chart.on('click', function (p) {
        var href = Object.prototype.hasOwnProperty.call(d.drill, p.name) ? d.drill[p.name] : null;
        if (typeof href === 'string' && /^[?\/](?!\/)/.test(href)) window.location.assign(href);
      });
    }
    if (MAPS[name] && BASE) withBase(chart);
    window.addEventListener('resize', function () { chart.resize(); });
  }

  window.xinyeCharts = {escapeHtml: escapeHtml, tip: tip, toGcj02: toGcj02};
  var els = document.querySelectorAll('[data-chart]');
  for (var i = 0; i < els.length; i++) draw(els[i]);
})();
