/*
 * Document assistant: one-tag chat widget.
 *
 *   <script src="http://HOST:PORT/embed.js" defer
 *           data-title="Ask the handbook" data-position="right"
 *           data-primary-color="#2563eb" data-api-key="..."></script>
 *
 * Adds a launcher button (data-testid="assistant-launcher") that opens a panel framing
 * HOST:PORT/widget. Everything lives in a shadow root so host-page CSS cannot break it and
 * it cannot break the host page. No text is ever inserted as HTML.
 */
(function () {
  "use strict";
  if (window.__docAssistantWidget) return;
  window.__docAssistantWidget = true;

  var script = document.currentScript ||
    document.querySelector('script[src*="/embed.js"]');
  if (!script) return;
  var base = new URL(script.src, document.baseURI);
  var serverOrigin = base.origin;
  var widgetUrl = new URL("widget", base).href;  // sibling of embed.js, works under a path prefix

  var title = (script.getAttribute("data-title") || "Ask the documents").slice(0, 80);
  var position = script.getAttribute("data-position") === "left" ? "left" : "right";
  var color = script.getAttribute("data-primary-color") || "#2563eb";
  if (!(window.CSS && CSS.supports && CSS.supports("color", color))) color = "#2563eb";
  var apiKey = script.getAttribute("data-api-key") || "";

  var host = document.createElement("div");
  host.setAttribute("data-assistant-widget", "");
  var root = host.attachShadow({ mode: "open" });

  var style = document.createElement("style");
  style.textContent = [
    ":host { all: initial; }",
    ".launcher { position: fixed; bottom: 20px; " + position + ": 20px; z-index: 2147483000;",
    "  width: 56px; height: 56px; border-radius: 50%; border: none; cursor: pointer;",
    "  background: var(--primary); color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25);",
    "  display: flex; align-items: center; justify-content: center; }",
    ".launcher:focus-visible { outline: 3px solid #111; outline-offset: 2px; }",
    ".launcher svg { width: 26px; height: 26px; fill: currentColor; }",
    ".panel { position: fixed; bottom: 88px; " + position + ": 20px; z-index: 2147483001;",
    "  width: 380px; height: 560px; max-height: calc(100vh - 108px); background: #fff;",
    "  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden;",
    "  display: none; flex-direction: column; font: 15px/1.4 system-ui, sans-serif; }",
    ".panel.open { display: flex; }",
    ".head { background: var(--primary); color: #fff; padding: 10px 12px; display: flex;",
    "  align-items: center; gap: 8px; }",
    ".head h2 { font: 600 15px/1.3 system-ui, sans-serif; margin: 0; flex: 1;",
    "  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }",
    ".close { background: transparent; border: none; color: #fff; font-size: 22px;",
    "  line-height: 1; cursor: pointer; padding: 2px 6px; }",
    "iframe { border: 0; width: 100%; flex: 1; background: #fff; }",
    ".note { margin: 16px; color: #333; overflow-wrap: anywhere; }",
    "@media (max-width: 480px) {",
    "  .panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; }",
    "  .panel.open + .launcher, .launcher.hidden { display: none; }",
    "}"
  ].join("\n");
  host.style.setProperty("--primary", color);

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  panel.setAttribute("data-testid", "assistant-panel");
  var head = document.createElement("div");
  head.className = "head";
  var h = document.createElement("h2");
  h.textContent = title;
  var close = document.createElement("button");
  close.className = "close";
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  close.setAttribute("data-testid", "assistant-close");
  close.textContent = "\u00d7";
  head.appendChild(h);
  head.appendChild(close);
  panel.appendChild(head);

  var launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.setAttribute("data-testid", "assistant-launcher");
  launcher.setAttribute("aria-label", "Open " + title);
  launcher.setAttribute("aria-expanded", "false");
  var svgNs = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  var path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  svg.appendChild(path);
  launcher.appendChild(svg);

  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);

  var frame = null;
  var ready = false;
  var note = null;
  function explain() {  // the frame loaded without the chat saying it is ready
    if (ready || note) return;
    note = document.createElement("p");
    note.setAttribute("data-testid", "assistant-unavailable");
    note.setAttribute("role", "alert");
    note.className = "note";
    note.textContent = "The assistant could not be shown on this page. If its server is running, " +
      "ask the team that runs it to allow this site: ASSISTANT_ALLOWED_ORIGINS=" + location.origin;
    frame.style.display = "none";
    panel.appendChild(note);
  }
  function open() {
    if (!frame) {  // the chat is loaded on first open only
      var params = new URLSearchParams({ title: title, color: color });
      if (apiKey) params.set("key", apiKey);
      frame = document.createElement("iframe");
      frame.title = title;
      frame.setAttribute("data-testid", "assistant-frame");
      frame.setAttribute("allow", "clipboard-write");
      frame.src = widgetUrl + "#" + params.toString();  // a fragment never reaches server logs
      frame.addEventListener("load", function () { setTimeout(explain, 2000); });
      panel.appendChild(frame);
    }
    panel.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close " + title);
    if (window.matchMedia("(max-width: 480px)").matches) launcher.classList.add("hidden");
    frame.focus();
  }
  function shut() {
    panel.classList.remove("open");
    launcher.classList.remove("hidden");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open " + title);
    launcher.focus();
  }
  launcher.addEventListener("click", function () {
    if (panel.classList.contains("open")) shut(); else open();
  });
  close.addEventListener("click", shut);
  window.addEventListener("message", function (event) {
    if (event.origin !== serverOrigin || !event.data) return;
    if (event.data.type === "assistant:close") shut();
    if (event.data.type === "assistant:ready") ready = true;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.classList.contains("open")) shut();
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
