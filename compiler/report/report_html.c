/* `quench report --html`: one self-contained page (inline CSS and SVG, no
 * scripts, nothing fetched) so a user sees at a glance which layer hurts: a
 * bar chart of per-tensor SQNR in graph order coloured by how bad it is, the
 * outputs and the task agreement, a table of every tensor and the pipeline
 * that built the quantized model. docs/report.md shows it; tested by
 * test/lit/quant/report-*.qir. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "support/arena.h"
#include "support/fileio.h"

static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* Colour bands (dB): below 20 bad, below 30 poor (the w8a8 gate), below 40
 * fair, else good. */
static const char *colour(double db) {
  if (isnan(db)) return "#bbbbbb";
  if (db < 20) return "#d73027";
  if (db < 30) return "#fc8d59";
  if (db < 40) return "#e6c229";
  return "#1a9850";
}

static void db_cell(FILE *f, double v) {
  if (isnan(v)) fputs("<td>-</td>", f);
  else if (isinf(v)) fprintf(f, "<td>%sinf</td>", v < 0 ? "-" : "");
  else fprintf(f, "<td style=\"color:%s\">%.2f</td>", colour(v), v);
}

static void chart(FILE *f, const RepReport *r) {
  const int left = 48, top = 16, h = 260, bottom = 24;
  int n = r->nrows ? r->nrows : 1;
  double bw = 900.0 / n;
  if (bw > 18) bw = 18;
  if (bw < 3) bw = 3;
  int width = left + (int)ceil(bw * n) + 16;
  double ymax = 60;
  for (int i = 0; i < r->nrows; i++) {
    double s = rep_metric_sqnr(&r->rows[i].fp);
    if (isfinite(s) && s > ymax) ymax = s;
  }
  ymax = ceil(ymax / 10) * 10;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"11\" "
             "font-family=\"sans-serif\">\n", width, top + h + bottom);
  for (int g = 0; g <= (int)ymax; g += 10) {
    double y = top + h - h * g / ymax;
    fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>"
               "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
            left, width - 8, y, y, g == 30 ? "#d73027" : "#dddddd", g == 30 ? " stroke-dasharray=\"4 3\"" : "",
            left - 4, y + 4, g);
  }
  fprintf(f, "<text x=\"4\" y=\"%d\">dB</text>\n", top + 8);
  for (int i = 0; i < r->nrows; i++) {
    const RepRow *rw = &r->rows[i];
    double s = rep_metric_sqnr(&rw->fp), v = isnan(s) ? 0 : s > ymax ? ymax : s < 0 ? 0 : s;
    double bh = h * v / ymax, x = left + bw * i;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s><title>",
            x + 0.5, top + h - bh, bw > 2 ? bw - 1 : bw, bh, colour(s),
            rw->kind == REP_ROW_WEIGHT ? " fill-opacity=\"0.45\"" : "");
    esc(f, rw->name);
    fprintf(f, " (%s, read by %s): %.2f dB</title></rect>\n", rw->kind == REP_ROW_WEIGHT ? "weight" : "activation",
            rw->op, s);
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\">tensors in graph order (weights pale); dashed: 30 dB</text>\n", left,
          top + h + 16);
  fputs("</svg>\n", f);
}

static void score_cells(FILE *f, const RepScore *sc, double base) {
  db_cell(f, sc->sqnr);
  fprintf(f, "<td>%+.2f</td>", sc->sqnr - base);
  if (isnan(sc->agree)) fputs("<td>-</td>", f);
  else fprintf(f, "<td>%lld of %lld (%.2f%%)</td>", (long long)sc->counts.matched, (long long)sc->counts.total,
               sc->agree);
  fputs("</tr>\n", f);
}

/* --sensitivity: every activation's gain alone, then the search's steps. */
static void sensitivity(FILE *f, const RepSensitivity *s) {
  fputs("<h2>Sensitivity</h2>\n<p>Each quantized activation kept float alone (the others quantized), "
        "largest output SQNR first; then kept float together, best first, each kept only when the step "
        "raises the SQNR.</p>\n<table><tr><th>kept float</th><th>worst output SQNR dB</th><th>gain dB</th>"
        "<th>agreement</th></tr>\n<tr><td>(none)</td>", f);
  score_cells(f, &s->base, s->base.sqnr);
  fputs("<tr><td>(every activation)</td>", f);
  score_cells(f, &s->all_float, s->base.sqnr);
  for (int i = 0; i < s->nrows; i++) {
    fputs("<tr><td>", f);
    esc(f, s->rows[i].name);
    fputs("</td>", f);
    score_cells(f, &s->rows[i].s, s->base.sqnr);
  }
  fputs("</table>\n", f);
  if (!s->nsteps) return;
  fputs("<h3>Kept float together</h3>\n<table><tr><th>step</th><th>worst output SQNR dB</th><th>gain dB</th>"
        "<th>agreement</th></tr>\n", f);
  for (int i = 0; i < s->nsteps; i++) {
    fprintf(f, "<tr><td>%d: + ", i + 1);
    esc(f, s->rows[s->chosen[i]].name);
    fputs("</td>", f);
    score_cells(f, &s->steps[i], s->base.sqnr);
  }
  fputs("</table>\n", f);
}

static void body(FILE *f, const RepReport *r, const RepHtmlInfo *info) {
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>quench report: ", f);
  esc(f, info->model);
  fputs("</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        "code{background:#f4f4f4;padding:1px 4px}</style></head><body>\n<h1>quench report: ",
        f);
  esc(f, info->model);
  fprintf(f, "</h1>\n<p>%d samples from <code>", r->samples);
  esc(f, info->data);
  fprintf(f, "</code>; interpreter time %.2f s float, %.2f s quantized.</p>\n", r->fp_secs, r->q_secs);
  fputs("<h2>Outputs</h2>\n<table><tr><th>output</th><th>shape</th><th>SQNR dB</th><th>cosine</th>"
        "<th>max error</th></tr>\n", f);
  for (int i = 0; i < r->nouts; i++) {
    const RepOutput *o = &r->outs[i];
    fputs("<tr><td>", f);
    esc(f, o->name);
    fprintf(f, "</td><td>%s</td>", o->shape);
    db_cell(f, rep_metric_sqnr(&o->m));
    fprintf(f, "<td>%.6f</td><td>%.4g</td></tr>\n", rep_metric_cosine(&o->m), o->m.max_abs);
  }
  fputs("</table>\n", f);
  if (r->task != REP_TASK_NONE && r->task_output >= 0) {
    fprintf(f, "<p>Task <b>%s</b> on <code>", rep_task_name(r->task));
    esc(f, r->outs[r->task_output].name);
    fprintf(f, "</code>: %lld of %lld agree (<b>%.2f%%</b>).</p>\n", (long long)r->agree.matched,
            (long long)r->agree.total, rep_agreement_pct(r));
  }
  fprintf(f, "<h2>Per-tensor SQNR (%d quantized tensors)</h2>\n", r->nrows);
  chart(f, r);
  fputs("<table><tr><th>#</th><th>tensor</th><th>kind</th><th>read by</th><th>codes</th><th>SQNR dB</th>"
        "<th>qdq SQNR dB</th><th>cosine</th><th>max error</th></tr>\n", f);
  for (int i = 0; i < r->nrows; i++) {
    const RepRow *rw = &r->rows[i];
    fprintf(f, "<tr><td>%d</td><td>", i);
    esc(f, rw->name);
    fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td>", rw->kind == REP_ROW_WEIGHT ? "weight" : "act", rw->op,
            rw->storage);
    db_cell(f, rep_metric_sqnr(&rw->fp));
    db_cell(f, rep_metric_sqnr(&rw->local));
    fprintf(f, "<td>%.6f</td><td>%.4g</td></tr>\n", rep_metric_cosine(&rw->fp), rw->fp.max_abs);
  }
  fputs("</table>\n", f);
  if (info->sens) sensitivity(f, info->sens);
  fputs("<h2>Configuration</h2>\n<p>Pipeline: <code>", f);
  esc(f, info->pipeline);
  fputs("</code></p>\n<p>SQNR: 10 log10(&Sigma; y&sup2; / &Sigma; (y &minus; y<sub>q</sub>)&sup2;) over all "
        "samples, y from the float model; qdq: across the tensor's own quantize/dequantize pair.</p>\n"
        "</body></html>\n",
        f);
}

bool rep_write_html(const RepReport *r, const RepHtmlInfo *info, const char *path, Diag *d) {
  OutFile out;
  if (!outfile_open(&out, path, "the HTML report", d)) return false;
  body(out.f, r, info);
  return outfile_commit(&out, d);
}
