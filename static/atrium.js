// Atrium's few behaviours on top of htmx: modal dialogs, copy-to-clipboard,
// toasts for htmx errors, and the collapsible app sidebar. Every page works
// without this file; it only makes them nicer.
(function () {
  "use strict";

  function toast(message) {
    var t = document.getElementById("toast");
    if (!t) return;
    t.textContent = message;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 4000);
  }

  function openDialogs(root) {
    (root || document).querySelectorAll("#modal dialog").forEach(function (d) {
      if (d.open) d.close();
      if (typeof d.showModal === "function") d.showModal(); else d.setAttribute("open", "");
      var first = d.querySelector("input:not([type=hidden]), textarea, select");
      if (first) first.focus();
    });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(ta); }
    return Promise.resolve();
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "modal") openDialogs();
  });

  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var msg = "Request failed (" + xhr.status + ")";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var el = doc.querySelector(".error-message");
      if (el) msg = el.textContent.trim();
    } catch (_) { /* keep the generic message */ }
    toast(msg);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The server could not be reached. Check your connection and try again.");
  });

  // Upload progress: htmx reports the bytes sent of multipart forms.
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest && e.target.closest("form[data-upload-progress]");
    if (!form || !e.detail.lengthComputable) return;
    var bar = form.querySelector("progress.upload-progress");
    if (!bar) return;
    bar.hidden = false;
    bar.value = Math.round((e.detail.loaded / e.detail.total) * 100);
  });

  document.addEventListener("change", function (e) {
    var all = e.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.closest("form");
    if (!form) return;
    form.querySelectorAll("input[type=checkbox][name=\"" + all.getAttribute("data-select-all") + "\"]").forEach(function (b) {
      b.checked = all.checked;
    });
  });

  document.addEventListener("click", function (e) {
    var confirmButton = e.target.closest("[data-confirm]");
    if (confirmButton && !window.confirm(confirmButton.getAttribute("data-confirm"))) {
      e.preventDefault();
      return;
    }
    var c = e.target.closest("[data-copy]");
    if (c) {
      e.preventDefault();
      copy(c.getAttribute("data-copy")).then(function () {
        toast("Copied " + c.getAttribute("data-copy"));
      }, function () { toast("Could not copy to the clipboard"); });
      var menu = c.closest("details");
      if (menu) menu.open = false;
      return;
    }
    var x = e.target.closest("[data-close]");
    if (x) {
      var d = x.closest("dialog");
      if (d && d.closest("#modal")) {
        e.preventDefault();
        d.close();
        d.remove();
      } else if (d) {
        e.preventDefault();
        history.back();
      }
      return;
    }
    var s = e.target.closest("[data-toggle-sidebar]");
    if (s) {
      var collapsed = document.body.classList.toggle("sidebar-collapsed");
      s.setAttribute("aria-expanded", String(!collapsed));
      try { localStorage.setItem("atrium.sidebar", collapsed ? "collapsed" : "open"); } catch (_) {}
      return;
    }
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details.profile-menu[open], details.card-menu[open]").forEach(function (m) {
      if (!m.contains(e.target)) m.open = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    try {
      if (localStorage.getItem("atrium.sidebar") === "collapsed" && document.getElementById("app-sidebar")) {
        document.body.classList.add("sidebar-collapsed");
      }
    } catch (_) {}
  });

  window.atriumToast = toast;
})();
