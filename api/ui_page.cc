// The status page (docs/ui.md): HTML, CSS and JavaScript in one document, no
// external assets. It polls this node's JSON API once a second.
#include "api/ui_page.h"

namespace raftlock::api {

namespace {

constexpr std::string_view kPage = R"UI(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftlock status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header .muted { color: #aab; }
main { padding: 12px 20px; display: grid; gap: 14px; grid-template-columns: 1fr 1fr; }
section { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px #0002; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e5ea; vertical-align: top; }
th { font-weight: 600; color: #556; font-size: 12px; text-transform: uppercase; }
td.num { font-variant-numeric: tabular-nums; }
td:first-child { white-space: nowrap; }
.banner { grid-column: 1 / -1; padding: 10px 14px; border-radius: 6px; font-weight: 600; }
.banner.ok { background: #dff3e4; color: #155724; }
.banner.noleader { background: #f8d7da; color: #721c24; font-size: 16px; }
.banner.error { background: #fff3cd; color: #6b4f00; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; }
.up { background: #dff3e4; color: #155724; }
.down { background: #f8d7da; color: #721c24; }
.lead { background: #1d6fd6; color: #fff; }
tr.is-down td { color: #999; }
.empty { color: #888; font-style: italic; }
code { font-size: 12px; }
</style>
</head>
<body>
<header><h1>raftlock</h1><span id="served-by" class="muted">connecting&hellip;</span>
<span id="updated" class="muted"></span></header>
<main>
<div id="banner" class="banner error">Waiting for the first answer&hellip;</div>
<section class="wide"><h2>Members</h2>
<table><thead><tr><th>id</th><th>state</th><th>role</th><th>term</th><th>commit</th>
<th>applied</th><th>lag</th><th>http</th></tr></thead><tbody id="members"></tbody></table></section>
<section><h2>Locks</h2>
<table><thead><tr><th>lock</th><th>holders (fencing token)</th><th>waiters</th></tr></thead>
<tbody id="locks"></tbody></table></section>
<section><h2>Elections</h2>
<table><thead><tr><th>election</th><th>leader value</th><th>term</th><th>candidates</th></tr></thead>
<tbody id="elections"></tbody></table></section>
<section class="wide"><h2>Sessions: <span id="sessions-count">?</span></h2></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}
function fill(tbody, rows, cols, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", {colspan: cols, class: "empty"}, emptyText))]));
}
async function get(path) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 3000);
  try {
    const r = await fetch(path, {cache: "no-store", signal: ctl.signal});
    const body = await r.json();
    if (!r.ok) throw new Error((body.error && body.error.message) || ("HTTP " + r.status));
    return body;
  } finally { clearTimeout(t); }
}
const who = (s) => s.name ? s.name + " (" + s.session + ")" : s.session;

function showOverview(ov) {
  $("served-by").textContent = "served by node " + ov.node + " (" + ov.role + ", term " + ov.term + ")";
  const b = $("banner");
  if (ov.leader === null) {
    b.className = "banner noleader";
    b.textContent = "NO LEADER: node " + ov.node + " does not know a leader (term " + ov.term +
        "). Writes are refused; the lists below are this node's last state.";
  } else {
    b.className = "banner ok";
    b.textContent = "Leader: node " + ov.leader + " (term " + ov.term + ")";
  }
  b.dataset.leader = ov.leader === null ? "" : ov.leader;
  fill($("members"), ov.members.map((m) => {
    const leads = m.up && m.role === "leader";
    const state = el("td", {}, el("span", {class: "badge " + (m.up ? "up" : "down")}, m.up ? "up" : "down"));
    const role = el("td", {}, leads ? el("span", {class: "badge lead"}, "LEADER") : m.up ? m.role : "");
    if (!m.up) role.append(el("span", {class: "empty"}, "unreachable" + (m.error ? ": " + m.error : "")));
    if (!m.voter) role.append(" (learner)");
    const n = (x) => el("td", {class: "num"}, x === null || x === undefined ? "-" : x);
    return el("tr", {class: "member" + (m.up ? "" : " is-down"), "data-id": m.id,
                     "data-up": m.up, "data-role": m.up ? m.role : "unknown"},
              el("td", {}, m.id), state, role, n(m.term), n(m.commit_index),
              n(m.applied_index), n(m.lag), el("td", {}, el("code", {}, m.http || "?")));
  }), 8, "no members");
}
function showLocks(l) {
  fill($("locks"), l.locks.map((k) => el("tr", {class: "lock", "data-name": k.lock},
      el("td", {}, k.lock, k.limit > 1 ? " (limit " + k.limit + ")" : ""),
      el("td", {}, ...k.holders.map((h) => el("div", {class: "holder", "data-token": h.fencing_token},
          who(h) + " #" + h.fencing_token + (h.mode === "shared" ? " shared" : "")))),
      el("td", {}, ...k.waiters.map((w) => el("div", {class: "waiter"}, who(w)))))),
      3, "no lock is held or waited on");
}
function showElections(e) {
  fill($("elections"), e.elections.map((x) => el("tr", {class: "election", "data-name": x.election},
      el("td", {}, x.election),
      el("td", {}, x.leader ? x.leader.value : el("span", {class: "empty"}, "nobody leads")),
      el("td", {class: "num"}, x.leader ? x.leader.term : "-"),
      el("td", {class: "num"}, x.candidates))), 4, "no elections");
}
let polls = 0;
async function poll() {
  const [ov, locks, elections, sessions] = await Promise.allSettled([
    get("/v1/cluster/overview"), get("/v1/locks?consistency=stale"),
    get("/v1/elections?consistency=stale"), get("/v1/sessions?consistency=stale")]);
  if (ov.status === "fulfilled") showOverview(ov.value);
  else {
    $("banner").className = "banner error";
    $("banner").textContent = "This node does not answer: " + ov.reason.message;
  }
  if (locks.status === "fulfilled") showLocks(locks.value);
  if (elections.status === "fulfilled") showElections(elections.value);
  if (sessions.status === "fulfilled") $("sessions-count").textContent = sessions.value.sessions.length;
  polls++;
  document.body.dataset.polls = polls;
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
)UI";

}  // namespace

std::string_view ui_page_html() {
  return kPage;
}

}  // namespace raftlock::api
