// Inbox keyboard shortcuts (a static file: the Content-Security-Policy allows no inline script).
// Queue: j / k move between items, Enter opens, / goes to the filters. Item page: r writes a reply, n a note,
// u goes back to the inbox. Keys typed into a field are left alone.
(function () {
  "use strict";
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function links() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-inbox-row] a.inbox-link"));
  }
  function move(step) {
    var all = links();
    if (!all.length) return;
    var at = all.indexOf(document.activeElement);
    var next = at === -1 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }
  function focus(selector) {
    var field = document.querySelector(selector);
    if (field) {
      field.focus();
      return true;
    }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "/": handled = focus("#inbox-filters select, #inbox-filters input"); break;
      case "r": handled = focus("#reply-form textarea"); break;
      case "n": handled = focus("#notes textarea"); break;
      case "u":
        var back = document.querySelector("[data-key-back]");
        if (back) window.location.assign(back.href); else handled = false;
        break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });
})();
