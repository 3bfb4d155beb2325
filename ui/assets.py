"""The page's style sheet and script, handed to Gradio by :mod:`ui.app`.

The script makes the ``[n]`` markers and the sources' "open" links work: a click opens the
"Sources" entry and the document viewer, a side panel over the page (no Gradio event, so the
answer is not run again) that fetches ``/api/documents/<source>/text`` (:mod:`ui.documents_api`),
shows the whole text with the quote highlighted at the citation's offsets (code points, as
Python counts them) and scrolled into view, the page of a PDF, and a link to the original file
at that page. Document text is only ever inserted as text (``textContent``, text nodes).
"""
from __future__ import annotations

CSS = """
.qa-answer .qa-text, .qa-question { line-height: 1.5; }
a.qa-marker { font-size: 0.8em; vertical-align: super; text-decoration: none; padding: 0 1px; }
.qa-refused { border-left: 4px solid #d97706; padding-left: 10px; }
.qa-refused-label { font-weight: 600; color: #b45309; margin-bottom: 4px; }
.qa-error { border-left: 4px solid #dc2626; padding-left: 10px; color: #b91c1c; }
.qa-notice { font-size: 0.9em; font-style: italic; margin-top: 6px; }
.qa-meta { font-size: 0.75em; opacity: 0.6; margin-top: 6px; }
.qa-sources { margin-top: 10px; }
.qa-sources > summary { cursor: pointer; font-weight: 600; }
.qa-source-list { padding-left: 0; list-style: none; margin: 6px 0 0 0; }
.qa-source { margin: 8px 0; scroll-margin-top: 40px; border-radius: 6px; }
.qa-source.qa-target { outline: 2px solid #2563eb; }
.qa-source-head { font-size: 0.85em; }
.qa-file { font-family: monospace; font-weight: 600; }
.qa-title, .qa-page, .qa-score { opacity: 0.7; margin-left: 6px; }
.qa-unverified { color: #b45309; margin-left: 6px; }
.qa-passage { font-size: 0.9em; margin-top: 4px; padding: 6px 8px; border-left: 3px solid #9ca3af;
              background: rgba(127, 127, 127, 0.08); }
mark.qa-quote { background: #fde047; color: #111; padding: 0 2px; }
.qa-documents { width: 100%; font-size: 0.9em; border-collapse: collapse; }
.qa-documents th, .qa-documents td { text-align: left; padding: 3px 6px;
                                     border-bottom: 1px solid rgba(127, 127, 127, 0.25); }
.qa-num-cell { text-align: right !important; }
.qa-rejected { color: #b91c1c; }
.qa-cursor { opacity: 0.5; }
a.qa-open { margin-left: 8px; font-size: 0.95em; }
a.qa-more { font-size: 0.8em; opacity: 0.8; }
.qa-passage-full { display: none; font-size: 0.9em; margin-top: 4px; padding: 6px 8px;
                   border-left: 3px solid #9ca3af; background: rgba(127, 127, 127, 0.08); }
.qa-source.qa-expanded .qa-passage-full { display: block; }
.qa-source.qa-expanded .qa-passage { display: none; }
mark.qa-quote-full, mark.qa-view-quote { background: #fde047; color: #111; padding: 0 2px; }
.qa-viewer { position: fixed; top: 0; right: 0; bottom: 0; width: min(48vw, 760px); z-index: 1000;
             display: flex; flex-direction: column; background: var(--background-fill-primary, #fff);
             color: var(--body-text-color, #111); border-left: 1px solid rgba(127, 127, 127, 0.4);
             box-shadow: -4px 0 18px rgba(0, 0, 0, 0.18); }
.qa-viewer[hidden] { display: none; }
.qa-viewer-head { display: flex; gap: 12px; align-items: baseline; padding: 10px 14px;
                  border-bottom: 1px solid rgba(127, 127, 127, 0.3); }
.qa-viewer-title { flex: 1; font-family: monospace; font-weight: 600; overflow-wrap: anywhere; }
.qa-viewer-page { opacity: 0.75; white-space: nowrap; }
.qa-viewer-close { cursor: pointer; border: none; background: none; font-size: 1.3em; line-height: 1; }
.qa-viewer-notice { padding: 6px 14px 0 14px; color: #b45309; font-size: 0.9em; }
.qa-viewer-notice:empty { display: none; }
.qa-viewer-text { flex: 1; overflow: auto; padding: 10px 14px; white-space: pre-wrap; font-size: 0.92em;
                  line-height: 1.5; overflow-wrap: anywhere; }
"""

# A click on an [n] marker opens the "Sources" block it points into and scrolls to the entry
# (the target is inside a closed <details>, and the page's URL should not change), then opens
# the viewer at the entry's quote; so does the entry's "open" link. Escape or × closes it.
# "show more" under a long passage swaps the quote in its context for the whole passage.
HEAD = r"""<script>
(function () {
  function docUrl(source, what, collection) {
    return "/api/documents/" + source.split("/").map(encodeURIComponent).join("/") + "/" + what +
      (collection ? "?collection=" + encodeURIComponent(collection) : "");
  }
  function units(text, points) {  // a code-point offset (Python's) as a UTF-16 index (JavaScript's)
    if (!/[\uD800-\uDFFF]/.test(text)) return points;
    var i = 0;
    for (var n = 0; n < points && i < text.length; n++) {
      var c = text.charCodeAt(i);
      i += (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.length) ? 2 : 1;
    }
    return i;
  }
  function pageAt(pages, offset) {
    var page = null;
    for (var i = 0; i < pages.length && pages[i].start <= offset; i++) page = pages[i].page;
    return page;
  }
  function part(tag, cls, parent) {
    var el = document.createElement(tag);
    el.className = cls;
    parent.appendChild(el);
    return el;
  }
  var viewer = null;
  function panel() {
    if (viewer) return viewer;
    var root = part("aside", "qa-viewer", document.querySelector(".gradio-container") || document.body);
    root.id = "qa-viewer";
    root.setAttribute("role", "dialog");
    root.setAttribute("aria-label", "Document viewer");
    var head = part("div", "qa-viewer-head", root);
    viewer = {root: root, title: part("span", "qa-viewer-title", head), page: part("span", "qa-viewer-page", head),
              original: part("a", "qa-viewer-original", head)};
    viewer.original.textContent = "open original";
    viewer.original.target = "_blank";
    viewer.original.rel = "noopener";
    var close = part("button", "qa-viewer-close", head);
    close.type = "button";
    close.title = "Close";
    close.setAttribute("aria-label", "Close the viewer");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () { root.hidden = true; });
    viewer.notice = part("div", "qa-viewer-notice", root);
    viewer.text = part("div", "qa-viewer-text", root);
    return viewer;
  }
  function squeeze(text) { return text.replace(/\s+/g, ""); }  // the sources block shows line breaks as <br>
  function show(doc, start, end, page, quote, v, collection) {
    var text = doc.text, s = units(text, start), e = units(text, end);
    var moved = quote !== null && squeeze(text.slice(s, e)) !== squeeze(quote);
    if (moved) {  // the document changed since the answer
      var at = text.indexOf(quote);
      if (at >= 0) { s = at; e = at + quote.length; }
      else { s = e = 0; }
      v.notice.textContent = at >= 0 ? "The document changed since this answer; the quote is now here."
                                     : "The document changed since this answer; the quote is no longer in it.";
    } else if (!doc.exact) {
      v.notice.textContent = "Pieced together from the index: the spacing between passages may differ.";
    }
    v.text.textContent = "";
    v.text.appendChild(document.createTextNode(text.slice(0, s)));
    var mark = part("mark", "qa-view-quote", v.text);
    mark.textContent = text.slice(s, e);
    v.text.appendChild(document.createTextNode(text.slice(e)));
    if (doc.pages.length) {
      if (page === null || moved)
        page = pageAt(doc.pages, Array.from(text.slice(0, s)).length);
      v.page.textContent = page !== null ? "page " + page + " of " + doc.pages.length : "";
    }
    if (doc.has_file) {
      v.original.href = docUrl(doc.source, "file", collection) + (page !== null && doc.pages.length ? "#page=" + page : "");
      v.original.hidden = false;
    }
    mark.scrollIntoView({block: "center"});
  }
  function open(entry) {  // the entry's "open" link: #qa-view?source=...&start=...&end=...&page=...
    var link = entry.querySelector("a.qa-open"), href = link ? link.getAttribute("href") || "" : "";
    if (href.indexOf("#qa-view?") !== 0) return;
    var q = new URLSearchParams(href.slice(9)), d = {source: q.get("source"), start: q.get("start"),
                                                     end: q.get("end"), page: q.get("page"),
                                                     collection: q.get("collection")};
    if (!d.source) return;
    var v = panel(), quoteEl = entry.querySelector("mark.qa-quote");
    var page = d.page ? parseInt(d.page, 10) : null, quote = quoteEl ? quoteEl.textContent : null;
    v.root.hidden = false;
    v.title.textContent = d.source;
    v.page.textContent = "";
    v.notice.textContent = "";
    v.original.hidden = true;
    v.original.removeAttribute("href");
    v.text.textContent = "Loading\u2026";
    v.root.dataset.source = d.source;
    fetch(docUrl(d.source, "text", d.collection), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (res) {
        if (v.root.dataset.source !== d.source) return;  // another document was opened meanwhile
        if (!res.ok) {
          v.text.textContent = "";
          v.notice.textContent = (res.body && res.body.detail) || "The document could not be loaded.";
          return;
        }
        show(res.body, parseInt(d.start, 10), parseInt(d.end, 10), page, quote, v, d.collection);
      })
      .catch(function (err) { v.text.textContent = ""; v.notice.textContent = "The document could not be loaded: " + err; });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.qa-marker, a.qa-open, a.qa-more") : null;
    if (!link) return;
    if (link.classList.contains("qa-more")) {  // a long passage: the quote in context <-> the whole passage
      event.preventDefault();
      var item = link.closest("li.qa-source");
      if (item) link.textContent = item.classList.toggle("qa-expanded") ? "show less" : "show more";
      return;
    }
    var target = link.classList.contains("qa-open") ? link.closest("li.qa-source")
                                                   : document.getElementById((link.getAttribute("href") || "").slice(1));
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    if (link.classList.contains("qa-marker")) {
      var details = target.closest("details");
      if (details) details.open = true;
      target.scrollIntoView({block: "nearest"});
      target.classList.add("qa-target");
      setTimeout(function () { target.classList.remove("qa-target"); }, 2500);
    }
    open(target);
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && viewer && !viewer.root.hidden) viewer.root.hidden = true;
  });
})();
</script>"""
