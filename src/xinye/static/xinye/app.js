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
