/*
 * report_html.c: the result as one self-contained HTML page (--report).
 *
 * The page carries its data as JSON in two inert script elements (the
 * result's JSON, as ms_stats_write_json writes it, and the samples'
 * distances and the pass's timeline) and draws everything from them with
 * an inline script into SVG: nothing is loaded from the network, so it
 * opens from a laptop's disk or a cluster's shared folder.  Every "<" in
 * the data is written "\u003c" (the same JSON), so no string can end or
 * confuse a script element.  When the script has drawn everything it sets
 * data-status="ok" on the body ("error" if anything threw), which the
 * test reads from a headless browser.
 */
#include "results/results.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char STYLE[] =
    "body{font:14px system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:20px}h2{font-size:17px;margin-top:28px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
    "svg{display:block;margin:6px 0;background:#fafafa}"
    ".key span{display:inline-block;width:12px;height:12px;margin:0 4px}";

/* The drawing script: reads #result and #extra, fills the sections. */
static const char *const SCRIPT[] = {
    "window.onerror=function(){document.body.dataset.status='error'};\n",
    "(function(){\n",
    /* (a sample id of 2^53 or more is no JavaScript number: as text) */
    "const R=JSON.parse(document.getElementById('result').textContent"
    ".replace(/(\"id\": )(-?\\d{16,})/g,'$1\"$2\"'));\n",
    "const X=JSON.parse(document.getElementById('extra').textContent);\n",
    "const NS='http://www.w3.org/2000/svg';\n",
    "function el(n,a,p){const e=document.createElementNS(NS,n);"
    "for(const k in a)e.setAttribute(k,a[k]);if(p)p.appendChild(e);"
    "return e}\n",
    "function h(t,x,p){const e=document.createElement(t);"
    "if(x!==undefined)e.textContent=x;if(p)p.appendChild(e);return e}\n",
    "function f(v){return v===null?'-':Number(v).toPrecision(6)}\n",
    "document.title='meshstats: '+R.dataset;\n",
    "const run=document.getElementById('run');\n",
    "const t=h('table',undefined,run);\n",
    "const rows=[['dataset',R.dataset],['model',R.model],"
    "['input_var / output_var / edge_var',R.input_var+' / '+R.output_var+"
    "' / '+R.edge_var],['positional_features',R.positional_features||0],"
    "['timesteps a sample',R.max_timesteps_for_stats||'all'],"
    "['selection',R.selection.source],['samples found / used',"
    "R.samples.found+' / '+R.samples.used],['workers / prefetch',"
    "X.workers+' / '+X.prefetch],['wall seconds',X.wall]];\n",
    "for(const r of rows){const tr=h('tr',undefined,t);h('th',r[0],tr);"
    "h('td',String(r[1]),tr)}\n",
    "if(R.samples.skipped.length){h('p','skipped:',run);"
    "const ul=h('ul',undefined,run);for(const s of R.samples.skipped)"
    "h('li','sample '+s.id+': '+s.reason,ul)}\n",
    "const G=document.getElementById('groups');\n",
    "for(const g of ['node','edge','delta']){const d=R[g];"
    "h('h2',g+' features ('+d.count+' rows)',G);\n",
    " const W=720,RH=26,L=130;const s=el('svg',{width:W,height:RH*"
    "d.features.length+10,'class':'group','data-group':g},G);\n",
    " d.features.forEach(function(name,k){const y=RH*k+14;"
    "el('text',{x:4,y:y+4,'font-size':12},s).textContent=name;\n",
    "  const lo=d.min[k],hi=d.max[k],m=d.mean[k],sd=d.std[k];"
    "if(lo===null)return;const span=hi>lo?hi-lo:1;\n",
    "  const X0=function(v){return L+(W-L-20)*(v-lo)/span};\n",
    "  el('line',{x1:X0(lo),x2:X0(hi),y1:y,y2:y,stroke:'#999'},s);\n",
    "  const a=Math.max(lo,m-sd),b=Math.min(hi,m+sd);"
    "el('rect',{x:X0(a),y:y-6,width:Math.max(1,X0(b)-X0(a)),height:12,"
    "fill:'#8ab4f8'},s);\n",
    "  el('line',{x1:X0(m),x2:X0(m),y1:y-8,y2:y+8,stroke:'#d93025',"
    "'stroke-width':2},s)});\n",
    " const tb=h('table',undefined,G);const hr=h('tr',undefined,tb);"
    "for(const c of ['feature','mean','std','min','max'])h('th',c,hr);\n",
    " d.features.forEach(function(name,k){const tr=h('tr',undefined,tb);"
    "h('td',name,tr);for(const c of ['mean','std','min','max'])"
    "h('td',f(d[c][k]),tr)})}\n",
    "h('p','Each row: the range from min to max, mean \\u00b1 std (blue) "
    "and the mean (red), on the feature\\'s own scale.',G);\n",
    "const S=document.getElementById('samples');\n",
    "if(X.samples.length){const top=X.samples.slice().sort(function(a,b)"
    "{return b.score-a.score}).slice(0,30);const W=720,RH=18;\n",
    " const mx=top.reduce(function(m,s){return Math.max(m,s.score)},0)"
    "||1;const s=el('svg',{width:W,height:RH*top.length+6,id:"
    "'sample-plot'},S);\n",
    " top.forEach(function(x,i){const y=RH*i+3;el('rect',{x:150,y:y,"
    "width:Math.max(1,(W-170)*x.score/mx),height:RH-4,fill:x.score>3?"
    "'#d93025':'#8ab4f8'},s);el('text',{x:4,y:y+12,'font-size':11},s)"
    ".textContent='sample '+x.id+' ('+x.feature+')';});\n",
    " h('p','The largest distances of a sample\\'s mean from the dataset\\'s"
    ", in dataset standard deviations (its worst feature); red beyond 3.',"
    "S)}else h('p','(no per-sample results in this run)',S);\n",
    "const T=document.getElementById('timeline');\n",
    "if(X.trace.length){const end=X.trace.reduce(function(m,e){"
    "return Math.max(m,e[2]+e[3])},0)||1;const W=900,LH=22,L=70;"
    "const n=X.workers+2;\n",
    " const s=el('svg',{width:W,height:LH*n+30,id:'timeline-plot'},T);\n",
    " const C=['#1a73e8','#f29900','#188038','#9aa0a6','#a142f4'];\n",
    " for(let k=0;k<n;k++)el('text',{x:4,y:LH*k+15,'font-size':11},s)"
    ".textContent=k==n-1?'check':k?'worker '+k:'loop';\n",
    " for(const e of X.trace){el('rect',{x:L+(W-L-10)*e[2]/end,y:LH*e[1]+"
    "4,width:Math.max(0.5,(W-L-10)*e[3]/end),height:LH-8,fill:C[e[0]]},"
    "s)}\n",
    " el('text',{x:L,y:LH*n+20,'font-size':11},s).textContent="
    "'0 .. '+(end/1e6).toFixed(3)+' s';\n",
    " const k=h('p',undefined,T);k.className='key';['read','compute',"
    "'edges','fold','check'].forEach(function(n,i){const sp=h('span','',k);"
    "sp.style.background=C[i];k.appendChild(document.createTextNode(n+"
    "' '))});\n",
    " const reads=X.trace.filter(function(e){return e[0]===0}).sort("
    "function(a,b){return a[2]+a[3]-b[2]-b[3]});let sum=0;const pts=[[0,0]"
    "];for(const e of reads){sum+=e[4];pts.push([e[2]+e[3],sum])}\n",
    " const P=el('svg',{width:W,height:160,id:'throughput-plot'},T);"
    "const top=sum||1;el('polyline',{fill:'none',stroke:'#1a73e8',"
    "'stroke-width':2,points:pts.map(function(p){return (L+(W-L-10)*p[0]/"
    "end)+','+(150-140*p[1]/top)}).join(' ')},P);\n",
    " el('text',{x:4,y:14,'font-size':11},P).textContent=(sum/1e6)"
    ".toFixed(1)+' MB read, '+(sum/1e6/(end/1e6)).toFixed(0)+' MB/s';\n",
    "}else h('p','(no timeline in this run)',T);\n",
    "document.body.dataset.status='ok';\n",
    "})();\n"};

/* Write JSON text with every "<" written "\u003c": the same JSON (a "<"
 * can only be inside a string), and nothing in it ("</script>",
 * "<!--<script>") can end or confuse the script element. */
static void
put_escaped(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '<') {
            fputs("\\u003c", out);
        } else {
            fputc(text[i], out);
        }
    }
}

/* The samples' distances and the timeline, as JSON. */
static int
write_extra(const struct ms_stats *s, FILE *out)
{
    const struct ms_run_info *r = &s->info;
    fprintf(out, "{\"workers\": %u, \"prefetch\": %u, \"wall\": %.3f, ",
            r->workers, r->prefetch, r->wall_seconds);
    fputs("\"samples\": [", out);
    for (size_t i = 0; i < s->nreports; i++) {
        enum ms_group_kind g;
        size_t k;
        char name[32];
        double z = ms_stats_outlier_score(s, i, &g, &k);
        ms_stats_feature_name(s, g, k, name, sizeof(name));
        fprintf(out, "%s{\"id\": \"%" PRId64 "\", \"score\": %.6g, "
                     "\"feature\": \"%s %s\"}",
                i ? ", " : "", s->reports[i].id,
                isfinite(z) ? z : (z > 0 ? 1e308 : 0.0),
                ms_group_name(g), name);
    }
    fputs("], \"trace\": [", out);
    for (size_t i = 0; i < s->ntrace; i++) {
        const struct ms_trace_event *e = &s->trace[i];
        fprintf(out, "%s[%d, %u, %.3f, %.3f, %" PRIu64 "]", i ? ", " : "",
                (int)e->kind, e->thread, (double)e->start_ns / 1e3,
                (double)e->dur_ns / 1e3, e->bytes);
    }
    fputs("]}", out);
    return 0;
}

/* What fn writes of s, into the page with "</" escaped. */
static int
embed(FILE *out, const char *id, int (*fn)(const struct ms_stats *, FILE *),
      const struct ms_stats *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        return MS_ENOMEM;
    }
    fn(s, mem);
    bool ok = !ferror(mem);
    ok = fclose(mem) == 0 && ok;
    if (ok) {
        fprintf(out, "<script type=\"application/json\" id=\"%s\">", id);
        put_escaped(out, text, len);
        fputs("</script>\n", out);
    }
    free(text);
    return ok ? 0 : MS_ENOMEM;
}

static int
write_report(const struct ms_stats *s, FILE *out)
{
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>meshstats report</title><style>%s</style></head>\n"
            "<body data-status=\"loading\">\n<h1>meshstats report</h1>\n"
            "<h2>The run</h2><section id=\"run\"></section>\n"
            "<section id=\"groups\"></section>\n"
            "<h2>The samples</h2><section id=\"samples\"></section>\n"
            "<h2>The pass</h2><section id=\"timeline\"></section>\n",
            STYLE);
    int rc = embed(out, "result", ms_stats_write_json, s);
    if (rc == 0) {
        rc = embed(out, "extra", write_extra, s);
    }
    fputs("<script>\n", out);
    for (size_t i = 0; i < MS_ARRAY_SIZE(SCRIPT); i++) {
        fputs(SCRIPT[i], out);
    }
    fputs("</script>\n</body></html>\n", out);
    return rc != 0 ? rc : ferror(out) ? MS_EIO : 0;
}

int
ms_stats_write_report(const struct ms_stats *s, FILE *out)
{
    return ms__stats_write_in_c(write_report, s, out);
}
