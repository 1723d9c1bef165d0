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
