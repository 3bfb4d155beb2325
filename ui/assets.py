"""The page's style sheet and script, handed to Gradio by :mod:`ui.server`."""
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
"""

# A click on an [n] marker opens the "Sources" block it points into and scrolls to the entry
# (the target is inside a closed <details>, and the page's URL should not change).
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a.qa-marker") : null;
  if (!link) return;
  var target = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!target) return;
  event.preventDefault();
  event.stopPropagation();
  var details = target.closest("details");
  if (details) details.open = true;
  target.scrollIntoView({block: "nearest"});
  target.classList.add("qa-target");
  setTimeout(function () { target.classList.remove("qa-target"); }, 2500);
}, true);
</script>"""
