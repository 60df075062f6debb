/* A corpus document opened at a cited place (GET /documents/{source}?start=S&end=E): scroll the
 * marked span into view and put the focus on it, so that a keyboard or screen reader starts there. */
(function () {
  "use strict";
  function show() {
    var cited = document.getElementById("cited");
    if (!cited) return;
    cited.scrollIntoView({ block: "center" });
    cited.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
})();
