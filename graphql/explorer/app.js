(function () {
  "use strict";
  var endpoint = window.location.pathname;
  var $ = function (id) { return document.getElementById(id); };
  var store = {
    get: function (k, d) { try { var v = window.localStorage.getItem("kefu." + k); return v === null ? d : v; } catch (e) { return d; } },
    set: function (k, v) { try { window.localStorage.setItem("kefu." + k, v); } catch (e) { /* private mode */ } }
  };

  var examples = [
    { name: "A customer's state and timeline", query:
      'query Customer($id: ID!) {\n  customer(id: $id) {\n    id name tier stage stageSince\n    loyalty { score level pAlive expectedPurchases(horizonDays: 90) }\n    openComplaints { id status replyDueAt overdue }\n    timeline(first: 20) {\n      totalCount\n      edges { node { type occurredAt summary } }\n    }\n    version\n  }\n}\n',
      variables: '{\n  "id": "@customer@"\n}' },
    { name: "Customers going silent", query:
      'query Silent {\n  customers(filter: {stages: [COMPLAINING, SILENT]}, first: 20) {\n    totalCount\n    edges { cursor node { id name stage stageSince accountManager } }\n    pageInfo { hasNextPage endCursor }\n  }\n}\n', variables: "" },
    { name: "Overdue complaints", query:
      'query Overdue {\n  complaints(filter: {overdue: true}) {\n    totalCount\n    edges { node { id owner severity filedAt replyDueAt customer { id name } } }\n  }\n}\n', variables: "" },
    { name: "My follow-up queue", query:
      'query Queue($owner: String) {\n  followUps(filter: {owner: $owner, status: DUE}) {\n    totalCount\n    edges { node { id reason dueAt customer { id name phone } complaint { id category } } }\n  }\n}\n',
      variables: '{\n  "owner": "@owner@"\n}' },
    { name: "Holidays and a campaign preview", query:
      'query Plan {\n  holidays(from: "@yearStart@", to: "@yearEnd@") { key name localName date }\n  previewGreetingCampaign(input: {\n    name: "春节 @nextYear@", occasion: "CN:spring_festival"\n    audience: {stages: [LOYAL, ACTIVE], tiers: [GOLD, VIP]}\n    templates: [{channel: WECHAT, body: "{{name}}，{{occasion}}快乐！"}]\n  }) { greeted skipped skippedByReason { reason count } }\n}\n', variables: "" },
    { name: "Log a contact (mutation)", query:
      'mutation Log($input: LogContactInput!) {\n  logContact(input: $input) {\n    version\n    customer { id stage lastInboundAt }\n  }\n}\n',
      variables: '{\n  "input": {\n    "customerId": "@customer@",\n    "channel": "PHONE",\n    "direction": "INBOUND",\n    "agent": "@owner@",\n    "summary": "asked about the delivery"\n  }\n}' },
    { name: "Manager's service report", query:
      'query Report($from: DateTime!, $to: DateTime!) {\n  serviceReport(from: $from, to: $to) {\n    complaints slaMetPercent firstContactResolutionPercent\n    medianTimeToResolutionSeconds followUpCompletionPercent\n    satisfactionPercent declined overdueNow\n    byCategory { key count }\n  }\n}\n',
      variables: '{\n  "from": "@monthAgo@",\n  "to": "@now@"\n}' },
    { name: "Lifecycle funnel", query:
      'query Funnel {\n  lifecycleReport(from: "@yearAgo@", to: "@now@", bucket: MONTH) {\n    buckets { start population { stage count } transitions { from to count } }\n  }\n  churnModel { customers r alpha a b }\n}\n', variables: "" },
    { name: "Who am I?", query: '{\n  viewer { user role canSeePII }\n}\n', variables: "" }
  ];

  // The examples name real data: a customer, an owner with a queue and dates
  // around now, taken from the store through the API itself when the page
  // loads (and again when the token changes). Until then, or on an empty
  // store, the placeholders say what to put there.
  var sample = { customer: "CUSTOMER-ID", owner: "ACCOUNT-MANAGER" };
  function fill(text) {
    var now = new Date(), y = now.getFullYear();
    var day = 24 * 3600 * 1000;
    var vals = {
      customer: sample.customer, owner: sample.owner,
      now: now.toISOString().replace(/\.\d+Z$/, "Z"),
      monthAgo: new Date(now.getTime() - 30 * day).toISOString().replace(/\.\d+Z$/, "Z"),
      yearAgo: new Date(now.getTime() - 365 * day).toISOString().replace(/\.\d+Z$/, "Z"),
      yearStart: y + "-01-01", yearEnd: y + "-12-31", nextYear: String(y + 1)
    };
    return text.replace(/@(customer|owner|now|monthAgo|yearAgo|yearStart|yearEnd|nextYear)@/g, function (m, k) { return vals[k]; });
  }
  var sampleQuery = "{ complaining: customers(first: 1, filter: {stages: [COMPLAINING]}) { edges { node { id accountManager } } }" +
    " any: customers(first: 1) { edges { node { id accountManager } } }" +
    " followUps(first: 1, filter: {status: DUE}) { edges { node { owner } } } }";
  // loadSample asks the store for real values; it resolves either way.
  function loadSample() {
    return call(sampleQuery, null).then(function (r) {
      var d = (r.body && r.body.data) || {};
      var first = function (conn) { return conn && conn.edges && conn.edges.length ? conn.edges[0].node : null; };
      var c = first(d.complaining) || first(d.any), f = first(d.followUps);
      if (c) { sample.customer = c.id; }
      if (f && f.owner) { sample.owner = f.owner; } else if (c && c.accountManager) { sample.owner = c.accountManager; }
    }).catch(function () { /* keep the placeholders */ });
  }

  var q = $("query"), vars = $("variables"), tok = $("token"), out = $("output"), status = $("status");
  var storedQuery = store.get("query", null);
  q.value = storedQuery === null ? fill(examples[0].query) : storedQuery;
  vars.value = storedQuery === null ? fill(examples[0].variables) : store.get("variables", "");
  tok.value = store.get("token", "");
  var sampled = loadSample().then(function () {
    // A first visit shows the first example with real values.
    if (store.get("query", null) === null) { q.value = fill(examples[0].query); vars.value = fill(examples[0].variables); }
  });

  examples.forEach(function (ex, i) {
    var o = document.createElement("option");
    o.value = String(i); o.textContent = ex.name;
    $("examples").appendChild(o);
  });
  $("examples").addEventListener("change", function (e) {
    var ex = examples[Number(e.target.value)];
    if (!ex) { return; }
    q.value = fill(ex.query); vars.value = fill(ex.variables);
    save(); e.target.value = ""; q.focus();
  });

  function save() { store.set("query", q.value); store.set("variables", vars.value); }
  q.addEventListener("input", save);
  vars.addEventListener("input", save);
  tok.addEventListener("change", function () { store.set("token", tok.value.trim()); loadSchema(); loadSample(); });

  // ---- editing: Tab indents, Enter keeps indentation, Ctrl/Cmd+Enter runs ----
  function editorKeys(e) {
    var ta = e.target;
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); return; }
    if (e.key === "Tab") {
      e.preventDefault();
      var s = ta.selectionStart, en = ta.selectionEnd, v = ta.value;
      if (s !== en && v.slice(s, en).indexOf("\n") >= 0) {
        var ls = v.lastIndexOf("\n", s - 1) + 1, block = v.slice(ls, en);
        var nb = e.shiftKey ? block.replace(/^ {1,2}/gm, "") : block.replace(/^/gm, "  ");
        ta.value = v.slice(0, ls) + nb + v.slice(en);
        ta.selectionStart = ls; ta.selectionEnd = ls + nb.length;
      } else if (e.shiftKey) {
        var l0 = v.lastIndexOf("\n", s - 1) + 1;
        if (v.slice(l0, l0 + 2) === "  ") { ta.value = v.slice(0, l0) + v.slice(l0 + 2); ta.selectionStart = ta.selectionEnd = Math.max(l0, s - 2); }
      } else {
        ta.value = v.slice(0, s) + "  " + v.slice(en);
        ta.selectionStart = ta.selectionEnd = s + 2;
      }
      save(); return;
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      var p = ta.selectionStart, val = ta.value, lineStart = val.lastIndexOf("\n", p - 1) + 1;
      var indent = /^[ \t]*/.exec(val.slice(lineStart, p))[0];
      var prev = val.slice(0, p).replace(/\s+$/, "").slice(-1);
      if (prev === "{" || prev === "(" || prev === "[") { indent += "  "; }
      var ins = "\n" + indent;
      ta.value = val.slice(0, p) + ins + val.slice(ta.selectionEnd);
      ta.selectionStart = ta.selectionEnd = p + ins.length;
      save();
    }
  }
  q.addEventListener("keydown", editorKeys);
  vars.addEventListener("keydown", editorKeys);

  // ---- running ----
  function headers() {
    var h = { "Content-Type": "application/json", "Accept": "application/json" };
    var t = tok.value.trim();
    if (t) { h.Authorization = "Bearer " + t; }
    return h;
  }

  function call(query, variables) {
    return fetch(endpoint, { method: "POST", headers: headers(), body: JSON.stringify({ query: query, variables: variables }) })
      .then(function (resp) {
        return resp.text().then(function (text) {
          var body;
          try { body = JSON.parse(text); } catch (e) { body = { errors: [{ message: "non-JSON response: " + text.slice(0, 200) }] }; }
          return { status: resp.status, body: body };
        });
      });
  }

  function run() {
    var variables = null;
    if (vars.value.trim()) {
      try { variables = JSON.parse(vars.value); } catch (e) {
        status.innerHTML = '<span class="bad">variables are not valid JSON</span>';
        out.innerHTML = '<span class="err">' + esc(String(e.message)) + "</span>";
        return;
      }
    }
    status.textContent = "running…";
    var t0 = performance.now();
    call(q.value, variables).then(function (r) {
      var ms = Math.round(performance.now() - t0);
      var errs = (r.body && r.body.errors) || [];
      var codes = errs.map(function (e) { return e.extensions && e.extensions.code; }).filter(Boolean);
      status.innerHTML = '<span class="' + (r.status === 200 && !errs.length ? "ok" : "bad") + '">HTTP ' + r.status + "</span> · " + ms + " ms" +
        (codes.length ? " · " + esc(codes.join(", ")) : "");
      out.innerHTML = highlight(JSON.stringify(r.body, null, 2));
    }).catch(function (e) {
      status.innerHTML = '<span class="bad">network error</span>';
      out.innerHTML = '<span class="err">' + esc(String(e)) + "</span>";
    });
  }
  $("run").addEventListener("click", run);

  function esc(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  function highlight(json) {
    return esc(json).replace(/("(\\u[a-fA-F0-9]{4}|\\[^u]|[^\\"])*"(\s*:)?|\b(true|false)\b|\bnull\b|-?\d+(\.\d+)?([eE][+-]?\d+)?)/g, function (m) {
      var cls = "n";
      if (/^"/.test(m)) { cls = /:$/.test(m) ? "k" : "s"; }
      else if (/true|false/.test(m)) { cls = "b"; }
      else if (/null/.test(m)) { cls = "z"; }
      return '<span class="' + cls + '">' + m + "</span>";
    });
  }

  // ---- prettify: re-indent by braces, leaving strings alone ----
  function prettify(src) {
    var outS = "", depth = 0, i = 0, c, line = "";
    function flush() { var l = line.trim(); if (l) { outS += new Array(depth + 1).join("  ") + l + "\n"; } line = ""; }
    while (i < src.length) {
      c = src[i];
      if (c === '"') {
        var triple = src.slice(i, i + 3) === '"""', end;
        if (triple) { end = src.indexOf('"""', i + 3); end = end < 0 ? src.length : end + 3; }
        else { end = i + 1; while (end < src.length && src[end] !== '"' && src[end] !== "\n") { end += src[end] === "\\" ? 2 : 1; } end++; }
        line += src.slice(i, end); i = end; continue;
      }
      if (c === "#") { var nl = src.indexOf("\n", i); nl = nl < 0 ? src.length : nl; line += src.slice(i, nl); flush(); i = nl; continue; }
      if (c === "{") { line = line.replace(/\s+$/, "") + " {"; flush(); depth++; i++; continue; }
      if (c === "}") { flush(); depth = Math.max(0, depth - 1); line = "}"; flush(); i++; continue; }
      if (c === "\n" || c === "\r") { flush(); i++; continue; }
      if (/\s/.test(c)) { if (line && !/\s$/.test(line)) { line += " "; } i++; continue; }
      line += c; i++;
    }
    flush();
    return outS;
  }
  $("prettify").addEventListener("click", function () { q.value = prettify(q.value); save(); });

  // ---- docs sidebar from introspection ----
  var typeRef = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
  var introspection = "query Introspection { __schema { queryType { name } mutationType { name } types { kind name description " +
    "fields { name description args { name description defaultValue type { " + typeRef + " } } type { " + typeRef + " } } " +
    "inputFields { name description defaultValue type { " + typeRef + " } } enumValues { name description } } } }";
  var schema = null, types = {}, history = [];

  $("toggleDocs").addEventListener("click", function () {
    document.querySelector("main").classList.toggle("nodocs");
    store.set("docs", document.querySelector("main").classList.contains("nodocs") ? "off" : "on");
  });
  if (store.get("docs", "on") === "off") { document.querySelector("main").classList.add("nodocs"); }

  function loadSchema() {
    $("docsBody").innerHTML = '<span class="muted">Loading schema…</span>';
    call(introspection, null).then(function (r) {
      if (!r.body || !r.body.data) {
        var msg = (r.body && r.body.errors && r.body.errors[0] && r.body.errors[0].message) || ("HTTP " + r.status);
        $("docsBody").innerHTML = '<span class="bad">Cannot load the schema: ' + esc(msg) + "</span>" +
          (r.status === 401 ? '<p class="muted">Enter your token above.</p>' : "");
        $("viewer").textContent = "";
        return;
      }
      schema = r.body.data.__schema; types = {};
      schema.types.forEach(function (t) { types[t.name] = t; });
      history = []; showHome();
      call("{ viewer { user role } }", null).then(function (v) {
        var who = v.body && v.body.data && v.body.data.viewer;
        $("viewer").textContent = who ? who.user + " · " + who.role : "";
      });
    }).catch(function (e) { $("docsBody").innerHTML = '<span class="bad">' + esc(String(e)) + "</span>"; });
  }

  function typeName(t) {
    if (!t) { return ""; }
    if (t.kind === "NON_NULL") { return typeName(t.ofType) + "!"; }
    if (t.kind === "LIST") { return "[" + typeName(t.ofType) + "]"; }
    return t.name;
  }
  function namedOf(t) { while (t && t.ofType) { t = t.ofType; } return t && t.name; }
  function typeLink(t) {
    var full = esc(typeName(t)), named = namedOf(t);
    return full.replace(esc(named), '<a class="type" data-type="' + esc(named) + '">' + esc(named) + "</a>");
  }
  function desc(d) { return d ? '<div class="desc">' + esc(d) + "</div>" : ""; }

  function navigate(name) {
    if (!types[name]) { return; }
    history.push($("docsTitle").textContent);
    showType(name);
  }
  $("docsBody").addEventListener("click", function (e) {
    var a = e.target.closest("a.type");
    if (a) { e.preventDefault(); navigate(a.getAttribute("data-type")); }
  });
  $("docsBack").addEventListener("click", function () {
    var prev = history.pop();
    if (!prev || prev === "Schema" || !types[prev]) { history = []; showHome(); } else { showType(prev); }
  });

  function setTitle(t) { $("docsTitle").textContent = t; $("docsBack").disabled = t === "Schema"; }

  function showHome() {
    setTitle("Schema");
    var h = '<div class="desc">Every type, field and argument below comes from the server\'s introspection: the descriptions are the API documentation.</div>';
    h += "<h3>Root types</h3>";
    [schema.queryType, schema.mutationType].forEach(function (r) {
      if (r) { h += '<div class="item"><a class="type" data-type="' + esc(r.name) + '">' + esc(r.name) + "</a>" + desc(types[r.name].description) + "</div>"; }
    });
    h += "<h3>All types</h3>";
    Object.keys(types).sort().forEach(function (n) {
      if (n.indexOf("__") === 0) { return; }
      h += '<div class="item"><a class="type" data-type="' + esc(n) + '">' + esc(n) + '</a><span class="kind">' + esc(types[n].kind) + "</span></div>";
    });
    $("docsBody").innerHTML = h;
  }

  function fieldHTML(f) {
    var h = '<div class="item"><span class="name">' + esc(f.name) + "</span>";
    if (f.args && f.args.length) {
      h += '<span class="args">(' + f.args.map(function (a) {
        return esc(a.name) + ": " + typeLink(a.type) + (a.defaultValue != null ? " = " + esc(a.defaultValue) : "");
      }).join(", ") + ")</span>";
    }
    h += ": " + typeLink(f.type);
    if (f.description) { h += '<div class="desc">' + esc(f.description) + "</div>"; }
    (f.args || []).forEach(function (a) {
      if (a.description) { h += '<div class="argdesc"><span class="name">' + esc(a.name) + "</span> — " + esc(a.description) + "</div>"; }
    });
    return h + "</div>";
  }

  function showType(name) {
    var t = types[name];
    setTitle(name);
    var h = '<div><span class="kind">' + esc(t.kind) + "</span></div>" + desc(t.description);
    if (t.fields && t.fields.length) { h += "<h3>Fields</h3>" + t.fields.map(fieldHTML).join(""); }
    if (t.inputFields && t.inputFields.length) {
      h += "<h3>Input fields</h3>" + t.inputFields.map(function (f) {
        return '<div class="item"><span class="name">' + esc(f.name) + "</span>: " + typeLink(f.type) +
          (f.defaultValue != null ? " = " + esc(f.defaultValue) : "") + desc(f.description) + "</div>";
      }).join("");
    }
    if (t.enumValues && t.enumValues.length) {
      h += "<h3>Values</h3>" + t.enumValues.map(function (v) {
        return '<div class="item"><span class="name">' + esc(v.name) + "</span>" + desc(v.description) + "</div>";
      }).join("");
    }
    $("docsBody").innerHTML = h;
    $("docsBody").scrollTop = 0;
  }

  $("docsSearch").addEventListener("input", function (e) {
    var term = e.target.value.trim().toLowerCase();
    if (!schema) { return; }
    if (!term) { showHome(); return; }
    setTitle("Search");
    var h = "";
    Object.keys(types).sort().forEach(function (n) {
      if (n.indexOf("__") === 0) { return; }
      var t = types[n];
      if (n.toLowerCase().indexOf(term) >= 0) { h += '<div class="item"><a class="type" data-type="' + esc(n) + '">' + esc(n) + '</a><span class="kind">' + esc(t.kind) + "</span></div>"; }
      (t.fields || []).concat(t.inputFields || []).forEach(function (f) {
        if (f.name.toLowerCase().indexOf(term) >= 0) {
          h += '<div class="item"><a class="type" data-type="' + esc(n) + '">' + esc(n) + '</a>.<span class="name">' + esc(f.name) + "</span>: " + typeLink(f.type) + desc(f.description) + "</div>";
        }
      });
    });
    $("docsBody").innerHTML = h || '<span class="muted">Nothing matches.</span>';
  });

  // Links may carry the query: #query=…&variables=…&run (run executes it on load).
  (function fromHash() {
    var h = window.location.hash.replace(/^#/, "");
    if (!h) { return; }
    var params = {};
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="), k = i < 0 ? kv : kv.slice(0, i), v = i < 0 ? "" : kv.slice(i + 1);
      try { params[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " ")); } catch (e) { /* ignore */ }
    });
    if (params.query) { q.value = params.query; }
    if (params.variables !== undefined && params.query) { vars.value = params.variables; }
    if (!("run" in params)) { return; }
    if (params.query) { run(); return; }
    // #run alone runs the first example once it names real data.
    sampled.then(function () { q.value = fill(examples[0].query); vars.value = fill(examples[0].variables); run(); });
  })();

  loadSchema();
  q.focus();
})();
