/* dlt book: the sidebar toggles work at every width.

   pydata-sphinx-theme 0.17 renders a second `.primary-toggle` (and `.secondary-toggle`) in its
   top navbar, which sphinx-book-theme 1.3 hides; both themes bind their click handlers with
   document.querySelector, i.e. to that first, hidden button, so the visible toggle in the article
   header does nothing at any width (pydata/pydata-sphinx-theme#2451, sphinx-book-theme#988).
   Until the themes fix it, a click on any other toggle is forwarded to the bound one: on a wide
   screen sphinx-book-theme then collapses the sidebar, on a narrow one pydata-sphinx-theme
   opens it as a dialog. The forwarding listener runs first and stops the event, so a fixed
   theme that binds every toggle would not toggle twice. */
(function () {
  function forward() {
    ["primary", "secondary"].forEach(function (side) {
      var toggles = Array.prototype.slice.call(document.querySelectorAll("." + side + "-toggle"));
      var bound = toggles[0];
      toggles.slice(1).forEach(function (button) {
        button.addEventListener(
          "click",
          function (event) {
            event.preventDefault();
            event.stopImmediatePropagation();
            bound.click();
          },
          true
        );
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", forward);
  } else {
    forward();
  }
})();
