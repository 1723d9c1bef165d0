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
