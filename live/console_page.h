/*
 * console_page.h (live): the console's one page, self-contained (no external assets: the
 * machine has no network). It fetches /api/state once a second and redraws.
 */
#ifndef SG_LIVE_CONSOLE_PAGE_H
#define SG_LIVE_CONSOLE_PAGE_H

static const char sg_console_page[] =
"<!doctype html><html><head><meta charset=utf-8><title>sagasim live console</title>"
"<style>body{font:14px system-ui,sans-serif;margin:20px;color:#222}h1{font-size:20px}"
"h2{font-size:16px;margin-top:22px;border-bottom:1px solid #ddd}table{border-collapse:"
"collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
"th{background:#f3f4f6}.up{color:#15803d;font-weight:600}.down{color:#b91c1c;"
"font-weight:600}.mono{font-family:monospace;font-size:12px}.muted{color:#666}"
"#verdict.ok{color:#15803d}#verdict.violation{color:#b91c1c}</style></head><body>"
"<h1>sagasim live console <span class=muted id=updated></span></h1>"
"<p class=muted>Read-only. Data: <span class=mono id=data></span>. The same figures as JSON:"
" <a href=/api/state>/api/state</a> (refreshed once a second).</p>"
"<h2>Nodes</h2><table><thead><tr><th>node</th><th>state</th><th>pid</th><th>restarts</th>"
"<th>commits</th></tr></thead><tbody id=nodes></tbody></table>"
"<h2>Withdrawals</h2><table><thead><tr><th>status</th><th>count</th></tr></thead>"
"<tbody id=statuses></tbody></table><p>Latest:</p><table><thead><tr><th>withdrawal</th>"
"<th>status</th><th>saga step</th><th>trace id</th><th>age</th></tr></thead>"
"<tbody id=latest></tbody></table>"
"<h2>Topics and consumer groups</h2><table><thead><tr><th>topic</th><th>partition</th>"
"<th>log end</th><th>group</th><th>committed</th><th>lag</th></tr></thead>"
"<tbody id=topics></tbody></table>"
"<h2>Chaos</h2><div id=chaos class=muted>no chaos run in this data directory</div>"
"<script>\n"
"const STATUSES=['REQUESTED','IN_PROGRESS','COMPLETED','FAILED','CANCELED'];\n"
"const GROUPS={'cbsaga.cmd.identity':'cbsaga-identity','cbsaga.cmd.risk':'cbsaga-risk',"
"'cbsaga.evt.identity':'cbsaga-orchestrator','cbsaga.evt.risk':'cbsaga-orchestrator'};\n"
"function esc(s){return String(s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;',"
"'\"':'&quot;'}[c]));}\n"
"function row(cells){return '<tr>'+cells.map(c=>'<td>'+c+'</td>').join('')+'</tr>';}\n"
"function draw(s){\n"
" document.getElementById('data').textContent=s.data_dir;\n"
" document.getElementById('updated').textContent=new Date(s.generated_at_ms).toLocaleTimeString();\n"
" let n='';for(const [role,v] of Object.entries(s.nodes)){const st=v.status||{};"
"n+=row([esc(role),v.up?'<span class=up>up</span>':'<span class=down>down</span>',"
"v.pid||'',st.starts?st.starts-1:'',st.commits?\?''].map(String));}\n"
" document.getElementById('nodes').innerHTML=n;\n"
" const o=(s.nodes.orchestrator||{}).status||{};const by={};(o.by_status||[]).forEach(r=>by[r.status]=r.n);\n"
" document.getElementById('statuses').innerHTML=STATUSES.map(k=>'<tr><td>'+k+'</td><td id=\"count-'+k+'\">'+(by[k]||0)+'</td></tr>').join('');\n"
" document.getElementById('latest').innerHTML=(o.latest||[]).map(w=>row(['<span class=mono>'+esc(w.withdrawal_id)+'</span>',"
"esc(w.status),esc(w.current_step),'<span class=mono>'+esc(w.trace_id)+'</span>',"
"Math.max(0,Math.round((s.generated_at_ms-w.created_at_ms)/1000))+' s'])).join('');\n"
" const b=(s.nodes.broker||{}).status||{};const goff={};(b.groups||[]).forEach(g=>goff[g.grp+'|'+g.topic+'|'+g.partition]=g.offset);\n"
" document.getElementById('topics').innerHTML=(b.partitions||[]).map(p=>{const g=GROUPS[p.topic];"
"const c=g?(goff[g+'|'+p.topic+'|'+p.partition]?\?0):null;return row([esc(p.topic),p.partition,p.log_end,"
"g||'(the checker reads it)',c===null?'':c,c===null?'':'<span id=\"lag-'+p.topic+'-'+p.partition+'\">'+(p.log_end-c)+'</span>'].map(String));}).join('');\n"
" const ch=s.chaos;if(ch){document.getElementById('chaos').innerHTML='kills: <b id=kills>'+ch.kills+'</b>, pauses: <b>'+ch.pauses+"
"'</b>, verdict: <b id=verdict class=\"'+esc(ch.verdict)+'\">'+esc(ch.verdict)+'</b>';}\n"
"}\n"
"async function tick(){try{const r=await fetch('/api/state',{cache:'no-store'});draw(await r.json());}catch(e){}}\n"
"tick();setInterval(tick,1000);\n"
"</script></body></html>\n";

#endif
