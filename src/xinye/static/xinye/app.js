/* Small behaviours of Xinye's pages, declared in the markup with data- attributes, because the
 * Content-Security-Policy allows no inline script and no inline event handler (onchange="..."):
 *
 *   <select data-autosubmit>                      submits its form when changed
 *   <select data-autosubmit data-clear="ID">      ... after emptying the field #ID
 *   <button data-locate data-lat="ID" data-lon="ID" data-msg="ID" data-digits="3" data-submit="FORM-ID"
 *           data-unsupported="..." data-denied="..." data-done="...">
 *                                                 fills #lat/#lon with the browser's location (rounded to
 *                                                 `digits` decimals when given), then submits FORM-ID if given
 *   <div data-width="37.5">                       style width: 37.5%
 *   <td data-indent="2">                          padding-left: 2rem
 *
 * Messages arrive as attribute values (escaped by the template) and are shown with textContent only.
 */
(function () {
  'use strict';

  function byId(id) { return id ? document.getElementById(id) : null; }

  document.addEventListener('change', function (e) {
    var el = e.target;
    if (!el.hasAttribute || !el.hasAttribute('data-autosubmit') || !el.form) return;
    var clear = byId(el.getAttribute('data-clear'));
    if (clear) clear.value = '';
    el.form.submit();
  });

  function locate(btn) {
    var msg = byId(btn.getAttribute('data-msg'));
    function say(text) { if (msg) msg.textContent = text || ''; }
    if (!navigator.geolocation) { say(btn.getAttribute('data-unsupported')); return; }
    var digits = btn.getAttribute('data-digits');
    navigator.geolocation.getCurrentPosition(function (p) {
      var lat = p.coords.latitude, lon = p.coords.longitude;
      byId(btn.getAttribute('data-lat')).value = digits ? lat.toFixed(+digits) : lat;
      byId(btn.getAttribute('data-lon')).value = digits ? lon.toFixed(+digits) : lon;
      say(btn.getAttribute('data-done'));
      var form = byId(btn.getAttribute('data-submit'));
      if (form) form.submit();
    }, function () { say(btn.getAttribute('data-denied')); });
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest ? e.target.closest('[data-locate]') : null;
    if (btn) locate(btn);
  });

  /* Sizes that depend on data: set through the CSS object model, which the policy allows. */
  function sizes(root) {
    var i, els = root.querySelectorAll('[data-width]');
    for (i = 0; i < els.length; i++) els[i].style.width = parseFloat(els[i].getAttribute('data-width')) + '%';
    els = root.querySelectorAll('[data-indent]');
    for (i = 0; i < els.length; i++) els[i].style.paddingLeft = parseFloat(els[i].getAttribute('data-indent')) + 'rem';
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { sizes(document); });
  } else {
    sizes(document);
  }
})();

/* == hA: dependent choices without a reload (issue 16) ==
 *   <select data-fill="URL" data-fill-target="ID">  when changed, fetches URL?<name>=<value> (same origin; a
 *                                                 fragment rendered and escaped by the server) into #ID, so
 *                                                 the rest of the form keeps what was typed
 *   <button data-nojs>                            the no-script way to do the same; removed when script runs
 */
(function () {
  'use strict';

  function ready() {
    var i, els = document.querySelectorAll('[data-nojs]');
    for (i = 0; i < els.length; i++) els[i].parentNode.removeChild(els[i]);
  }

  document.addEventListener('change', function (e) {
    var el = e.target;
    if (!el.hasAttribute || !el.hasAttribute('data-fill')) return;
    var target = document.getElementById(el.getAttribute('data-fill-target'));
    if (!target || !window.fetch) return;
    var url = el.getAttribute('data-fill') + '?' + encodeURIComponent(el.name) + '=' + encodeURIComponent(el.value);
    fetch(url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { target.innerHTML = html; })
      .catch(function () { target.innerHTML = ''; });
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();

/* == hC: phone first (issue 16) ==
 *   <a data-menu-toggle href="#MENU-ID" aria-controls="MENU-ID">   opens and closes the menu on phones (a button
 *                                                 with aria-expanded; without script the link opens it by :target)
 *   <table> in <main>                             marked data-cards, each cell gets data-label = its column's
 *                                                 heading: the stylesheet turns it into cards on a phone
 *                                                 (not a <table class="keep-table">)
 */
(function () {
  'use strict';

  function menu() {
    var toggle = document.querySelector('[data-menu-toggle]');
    if (!toggle) return;
    var target = document.getElementById(toggle.getAttribute('aria-controls'));
    if (!target) return;
    var header = toggle.closest('header') || document.documentElement;
    header.classList.add('menu-js');
    toggle.setAttribute('role', 'button');
    toggle.setAttribute('aria-expanded', 'false');

    function set(open) {
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      target.classList.toggle('open', open);
    }
    toggle.addEventListener('click', function (e) {
      e.preventDefault();
      set(toggle.getAttribute('aria-expanded') !== 'true');
    });
    toggle.addEventListener('keydown', function (e) {  // a button answers the space bar too
      if (e.key === ' ' || e.key === 'Spacebar') { e.preventDefault(); toggle.click(); }
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') { set(false); toggle.focus(); }
    });
  }

  function label(root) {
    var tables = root.querySelectorAll('main table');
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      if (table.classList.contains('keep-table')) continue;
      table.setAttribute('data-cards', '');
      var heads = table.tHead ? table.tHead.rows : [];
      if (!heads.length) continue;
      var names = [], cells = heads[heads.length - 1].cells, i, j;
      for (i = 0; i < cells.length; i++) {
        var span = cells[i].colSpan || 1;
        for (j = 0; j < span; j++) names.push(cells[i].textContent.replace(/\s+/g, ' ').trim());
      }
      for (var b = 0; b < table.tBodies.length; b++) {
        var rows = table.tBodies[b].rows;
        for (i = 0; i < rows.length; i++) {
          var col = 0, row = rows[i].cells;
          for (j = 0; j < row.length; j++) {
            if (!row[j].hasAttribute('data-label') && names[col] !== undefined) row[j].setAttribute('data-label', names[col]);
            col += row[j].colSpan || 1;
          }
        }
      }
    }
  }

  function init() { menu(); label(document); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
  document.addEventListener('htmx:afterSettle', function () { label(document); });
})();

/* == hD: the finder's map, loaded only when asked for (issue 16, item 8) ==
 *   <button data-map-load="ID" data-map-scripts="URL URL" data-map-flag="INPUT-ID" data-map-failed="..."
 *           data-map-geo="URL" data-map-source="BLOCK-ID">
 * shows the hidden #ID, fetches the outlines (GeoJSON) from data-map-geo into the "geo" of the page's
 * json_script block #BLOCK-ID, then adds the scripts in order (ECharts, then charts.js, which draws every
 * [data-chart] it finds) and sets the form field #INPUT-ID to 1 so that the next search keeps the map.
 * The station list never needs these scripts: a rider on a slow connection sees it without them.
 */
(function () {
  'use strict';

  function addScripts(urls, done, failed) {
    if (!urls.length) { done(); return; }
    var s = document.createElement('script');
    s.src = urls[0];
    s.addEventListener('load', function () { addScripts(urls.slice(1), done, failed); });
    s.addEventListener('error', failed);
    document.body.appendChild(s);
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest ? e.target.closest('[data-map-load]') : null;
    if (!btn || btn.disabled) return;
    var box = document.getElementById(btn.getAttribute('data-map-load'));
    var flag = document.getElementById(btn.getAttribute('data-map-flag') || '');
    var msg = btn.parentNode.querySelector('[data-map-msg]');
    if (!box) return;
    btn.disabled = true;
    box.hidden = false;
    if (flag) flag.value = '1';
    var urls = (btn.getAttribute('data-map-scripts') || '').split(/\s+/).filter(Boolean);
    function failed() {
      box.hidden = true;
      btn.disabled = false;
      if (msg) msg.textContent = btn.getAttribute('data-map-failed') || '';
    }
    function scripts() { addScripts(urls, function () { btn.hidden = true; }, failed); }
    var geoUrl = btn.getAttribute('data-map-geo');
    var block = document.getElementById(btn.getAttribute('data-map-source') || '');
    if (!geoUrl || !block || !window.fetch) { scripts(); return; }
    fetch(geoUrl, {credentials: 'same-origin'}).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (geo) {
      var data = JSON.parse(block.textContent || '{}');
      data.geo = geo;
      block.textContent = JSON.stringify(data);  /* a data block: never run, read by charts.js */
      scripts();
    }).catch(failed);
  });
})();

/* == hF: folding trees (issue 16) ==
   Every node with children is a <details>, so the tree folds without script; these buttons open or close
   all of them at once. */
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var btn = e.target.closest ? e.target.closest('[data-tree-toggle]') : null;
    if (!btn) return;
    var open = btn.getAttribute('data-tree-toggle') === 'open';
    var scope = btn.closest('.panel') || document;
    var nodes = scope.querySelectorAll('details.tree-node');
    for (var i = 0; i < nodes.length; i++) nodes[i].open = open;
  });
})();

/* == hB: the rotating check-in code of a volunteer shift (issue 14) ==
 *   <div data-code-refresh="URL">             when the code inside ends (its [data-code-seconds] element says
 *                                             in how many seconds), fetches URL (same origin; the next code,
 *                                             rendered and escaped by the server) into the div, and again
 */
(function () {
  'use strict';

  function schedule(box) {
    var inner = box.querySelector('[data-code-seconds]');
    var seconds = inner ? parseInt(inner.getAttribute('data-code-seconds'), 10) : 60;
    if (!(seconds > 0)) seconds = 60;
    window.setTimeout(function () { refresh(box); }, seconds * 1000 + 300);
  }

  function refresh(box) {
    if (!window.fetch) return;
    fetch(box.getAttribute('data-code-refresh'), { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) { box.innerHTML = html; schedule(box); })
      .catch(function () { window.setTimeout(function () { refresh(box); }, 5000); });
  }

  function init() {
    var boxes = document.querySelectorAll('[data-code-refresh]');
    for (var i = 0; i < boxes.length; i++) schedule(boxes[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
