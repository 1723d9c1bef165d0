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

  function draw(el) {
    var kind = KINDS[el.getAttribute('data-chart')];
    if (!kind || !window.echarts) return;
    var option = kind(source(el));
    if (!option) return;
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener('resize', function () { chart.resize(); });
  }

  window.xinyeCharts = {escapeHtml: escapeHtml, tip: tip};
  var els = document.querySelectorAll('[data-chart]');
  for (var i = 0; i < els.length; i++) draw(els[i]);
})();
