/* Figures with cairo: one drawing routine renders a figure onto any cairo
 * surface, so the PNG and the SVG are the same picture. Axis ranges, ticks
 * and legend placement are computed, not guessed: tick labels are thinned
 * until they do not overlap, and the legend goes in the corner covering the
 * fewest data points (or outside the axes when every corner covers some). */
#define _POSIX_C_SOURCE 200809L
#include "syre/dist.h"
#include "syre/format.h"
#include "syre/plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define FIG_W 800.0
#define FIG_H 540.0
#define PNG_SCALE 1.5 /* PNG pixels per SVG point: sharper text in PNGs */
#define FONT "DejaVu Sans"

typedef struct {
    char *label;
    double *x, *y;
    int n;
    sy_plot_style style;
} series;

struct sy_plot {
    char *title, *xlabel, *ylabel;
    series *s;
    int ns;
    int logx, logy;
    double xr[2], yr[2];
    int xfix, yfix;
};

static const double palette[][3] = {
    {0.122, 0.467, 0.706}, {0.839, 0.153, 0.157}, {0.173, 0.627, 0.173}, {1.000, 0.498, 0.055},
    {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
    {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812},
};
#define NCOLORS (int)(sizeof palette / sizeof palette[0])

static char *xstrdup(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

sy_plot *sy_plot_new(const char *title, const char *xlabel, const char *ylabel)
{
    sy_plot *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->title = xstrdup(title);
    p->xlabel = xstrdup(xlabel);
    p->ylabel = xstrdup(ylabel);
    if (!p->title || !p->xlabel || !p->ylabel) {
        sy_plot_free(p);
        return NULL;
    }
    return p;
}

void sy_plot_free(sy_plot *p)
{
    if (!p) return;
    for (int i = 0; i < p->ns; i++) {
        free(p->s[i].label);
        free(p->s[i].x);
        free(p->s[i].y);
    }
    free(p->s);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
}

static series *new_series(sy_plot *p, const char *label, int n, sy_plot_style style)
{
    if (!p || n < 0) {
        sy_fail(SY_ERR_ARG, "plot: invalid series '%s'", label ? label : "");
        return NULL;
    }
    series *a = realloc(p->s, sizeof *a * (size_t)(p->ns + 1));
    if (!a) {
        sy_fail(SY_ERR_NOMEM, "plot: out of memory");
        return NULL;
    }
    p->s = a;
    series *s = &a[p->ns];
    s->label = xstrdup(label);
    s->x = malloc(sizeof(double) * (size_t)(n + 1));
    s->y = malloc(sizeof(double) * (size_t)(n + 1));
    s->n = n;
    s->style = style;
    if (!s->label || !s->x || !s->y) {
        free(s->label);
        free(s->x);
        free(s->y);
        sy_fail(SY_ERR_NOMEM, "plot: out of memory");
        return NULL;
    }
    p->ns++;
    return s;
}

sy_status sy_plot_series(sy_plot *p, const char *label, const double *x, const double *y,
                         int n, sy_plot_style style)
{
    if (n > 0 && !y) return sy_fail(SY_ERR_ARG, "plot: series '%s' has no y values", label ? label : "");
    series *s = new_series(p, label, n, style);
    if (!s) return SY_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        s->x[i] = x ? x[i] : (double)i;
        s->y[i] = y[i];
    }
    return SY_OK;
}

sy_status sy_plot_series_f(sy_plot *p, const char *label, const float *x, const float *y,
                           int n, sy_plot_style style)
{
    if (n > 0 && !y) return sy_fail(SY_ERR_ARG, "plot: series '%s' has no y values", label ? label : "");
    series *s = new_series(p, label, n, style);
    if (!s) return SY_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        s->x[i] = x ? (double)x[i] : (double)i;
        s->y[i] = (double)y[i];
    }
    return SY_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

sy_status sy_plot_spectrum(sy_plot *p, const char *label, const float *eig, int n, double floor_)
{
    if (n > 0 && !eig) return sy_fail(SY_ERR_ARG, "plot: spectrum '%s' has no values", label ? label : "");
    series *s = new_series(p, label, n, n > 60 ? SY_PLOT_LINE : SY_PLOT_LINE_POINTS);
    if (!s) return SY_ERR_NOMEM;
    if (floor_ <= 0) floor_ = 1e-12;
    for (int i = 0; i < n; i++) s->y[i] = isfinite(eig[i]) ? (double)eig[i] : floor_;
    qsort(s->y, (size_t)n, sizeof(double), cmp_desc);
    for (int i = 0; i < n; i++) {
        s->x[i] = (double)(i + 1);
        if (s->y[i] < floor_) s->y[i] = floor_;
    }
    p->logy = 1;
    return SY_OK;
}

void sy_plot_log_axes(sy_plot *p, int logx, int logy)
{
    p->logx = logx != 0;
    p->logy = logy != 0;
}

void sy_plot_xrange(sy_plot *p, double min, double max)
{
    p->xfix = min < max;
    p->xr[0] = min;
    p->xr[1] = max;
}

void sy_plot_yrange(sy_plot *p, double min, double max)
{
    p->yfix = min < max;
    p->yr[0] = min;
    p->yr[1] = max;
}

/* ---- Axes ------------------------------------------------------------------ */

typedef struct {
    int log;
    double lo, hi; /* in transformed units (log10 for log axes) */
} axis;

static int usable(double v, int log) { return isfinite(v) && (!log || v > 0); }
static double tr(double v, int log) { return log ? log10(v) : v; }

static axis fit_axis(const sy_plot *p, int which)
{
    axis a = {which ? p->logy : p->logx, INFINITY, -INFINITY};
    int fixed = which ? p->yfix : p->xfix;
    const double *r = which ? p->yr : p->xr;
    if (fixed && usable(r[0], a.log) && usable(r[1], a.log)) {
        a.lo = tr(r[0], a.log);
        a.hi = tr(r[1], a.log);
        return a;
    }
    for (int i = 0; i < p->ns; i++)
        for (int k = 0; k < p->s[i].n; k++) {
            double xv = p->s[i].x[k], yv = p->s[i].y[k];
            if (!usable(xv, p->logx) || !usable(yv, p->logy)) continue;
            double v = tr(which ? yv : xv, a.log);
            if (v < a.lo) a.lo = v;
            if (v > a.hi) a.hi = v;
        }
    if (!(a.lo <= a.hi)) {
        a.lo = 0;
        a.hi = 1;
    } else if (a.hi - a.lo < 1e-12 * (fabs(a.lo) + 1)) {
        double d = a.log ? 0.5 : (a.lo == 0 ? 1 : 0.1 * fabs(a.lo));
        a.lo -= d;
        a.hi += d;
    } else {
        double pad = 0.04 * (a.hi - a.lo);
        /* Do not pad a linear axis below zero when the data start at zero. */
        a.lo = (!a.log && a.lo >= 0 && a.lo - pad < 0) ? 0 : a.lo - pad;
        a.hi += pad;
    }
    return a;
}

static double nice_step(double raw)
{
    double e = pow(10, floor(log10(raw))), f = raw / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

#define MAX_TICKS 64
typedef struct {
    int n;
    double v[MAX_TICKS]; /* transformed positions */
    char label[MAX_TICKS][24];
    int nminor;
    double minor[MAX_TICKS * 4];
} ticks;

static void fmt_linear(double v, double step, char *buf)
{
    if (fabs(v) < step * 1e-6) v = 0;
    double mag = fmax(fabs(v), step);
    if (mag >= 1e5 || step < 1e-4) {
        snprintf(buf, 24, "%.3g", v);
    } else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        if (step * pow(10, dec) - floor(step * pow(10, dec) + 1e-9) > 1e-6) dec++; /* 2.5, 0.25 */
        snprintf(buf, 24, "%.*f", dec, v);
    }
}

static void fmt_pow10(double v, char *buf)
{
    double k = floor(v + 1e-9);
    double val = pow(10, v);
    if (fabs(v - k) < 1e-9 && (k < -3 || k > 4))
        snprintf(buf, 24, "1e%d", (int)k);
    else
        snprintf(buf, 24, "%.3g", val);
}

/* Ticks for an axis with `space` points of length; labels are thinned until
 * each fits in its slot (text width measured with the figure's font). */
static void make_ticks(cairo_t *cr, axis a, double space, int horizontal, ticks *t)
{
    cairo_text_extents_t ext;
    for (int want = horizontal ? 8 : 7; want >= 2; want--) {
        t->n = 0;
        t->nminor = 0;
        if (a.log) {
            double lo = ceil(a.lo - 1e-9), hi = floor(a.hi + 1e-9);
            int ndec = (int)(hi - lo) + 1;
            if (ndec >= 2) {
                int every = (ndec + want - 1) / want;
                for (double k = lo; k <= hi && t->n < MAX_TICKS; k += every) t->v[t->n++] = k;
                if (every == 1 && ndec <= 8)
                    for (double k = floor(a.lo); k <= a.hi; k++)
                        for (int m = 2; m <= 9 && t->nminor < MAX_TICKS * 4; m++) {
                            double v = k + log10(m);
                            if (v >= a.lo && v <= a.hi) t->minor[t->nminor++] = v;
                        }
            } else {
                /* Less than two decades in range: 1-2-5 steps. */
                static const double mult[] = {1, 2, 5};
                for (double k = floor(a.lo); k <= a.hi; k++)
                    for (int m = 0; m < 3; m++) {
                        double v = k + log10(mult[m]);
                        if (v >= a.lo - 1e-9 && v <= a.hi + 1e-9 && t->n < MAX_TICKS) t->v[t->n++] = v;
                    }
                if (t->n < 2) { /* very narrow: fall back to linear values */
                    t->n = 0;
                    double lo10 = pow(10, a.lo), hi10 = pow(10, a.hi), st = nice_step((hi10 - lo10) / want);
                    for (double v = ceil(lo10 / st) * st; v <= hi10 && t->n < MAX_TICKS; v += st)
                        if (v > 0) t->v[t->n++] = log10(v);
                }
            }
            for (int i = 0; i < t->n; i++) fmt_pow10(t->v[i], t->label[i]);
        } else {
            double st = nice_step((a.hi - a.lo) / want);
            for (double v = ceil(a.lo / st - 1e-9) * st; v <= a.hi + st * 1e-9 && t->n < MAX_TICKS; v += st)
                t->v[t->n++] = v;
            for (int i = 0; i < t->n; i++) fmt_linear(t->v[i], st, t->label[i]);
        }
        /* Fit check: the widest (or tallest) label against the tick spacing. */
        double maxw = 0;
        for (int i = 0; i < t->n; i++) {
            cairo_text_extents(cr, t->label[i], &ext);
            double w = horizontal ? ext.x_advance : 14;
            if (w > maxw) maxw = w;
        }
        double gap = t->n > 1 ? space * (t->v[1] - t->v[0]) / (a.hi - a.lo) : space;
        if (maxw + 12 <= gap) return;
    }
}

/* ---- Drawing ------------------------------------------------------------------ */

typedef struct {
    double x0, y0, x1, y1; /* plot area, in figure points; y0 is the top */
    axis ax, ay;
} frame;

static double px(const frame *f, double v) { return f->x0 + (tr(v, f->ax.log) - f->ax.lo) / (f->ax.hi - f->ax.lo) * (f->x1 - f->x0); }
static double py(const frame *f, double v) { return f->y1 - (tr(v, f->ay.log) - f->ay.lo) / (f->ay.hi - f->ay.lo) * (f->y1 - f->y0); }

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Text anchored at (x, y): ax, ay in {0, 0.5, 1} select left/centre/right
 * and top/middle/bottom. */
static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, s, &e);
    cairo_font_extents(cr, &fe);
    double h = fe.ascent * 0.75; /* cap height, roughly */
    cairo_move_to(cr, x - ax * e.x_advance, y + h * (1 - ay));
    cairo_show_text(cr, s);
}

static void marker(cairo_t *cr, int kind, double x, double y, double r)
{
    switch (kind % 6) {
    case 0: cairo_new_sub_path(cr); cairo_arc(cr, x, y, r, 0, 2 * M_PI); cairo_fill(cr); break;
    case 1: cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r); cairo_fill(cr); break;
    case 2:
        cairo_move_to(cr, x, y - r * 1.15);
        cairo_line_to(cr, x + r, y + r * 0.75);
        cairo_line_to(cr, x - r, y + r * 0.75);
        cairo_close_path(cr);
        cairo_fill(cr);
        break;
    case 3:
        cairo_move_to(cr, x, y - r * 1.2);
        cairo_line_to(cr, x + r, y);
        cairo_line_to(cr, x, y + r * 1.2);
        cairo_line_to(cr, x - r, y);
        cairo_close_path(cr);
        cairo_fill(cr);
        break;
    case 4:
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        cairo_stroke(cr);
        break;
    default:
        cairo_move_to(cr, x - r * 1.2, y);
        cairo_line_to(cr, x + r * 1.2, y);
        cairo_move_to(cr, x, y - r * 1.2);
        cairo_line_to(cr, x, y + r * 1.2);
        cairo_stroke(cr);
        break;
    }
}

static int has_line(sy_plot_style s) { return s != SY_PLOT_POINTS; }
static int has_marker(sy_plot_style s) { return s == SY_PLOT_POINTS || s == SY_PLOT_LINE_POINTS; }

/* How many data points (and points along segments) fall in a box. */
static int covered(const sy_plot *p, const frame *f, double bx0, double by0, double bx1, double by1)
{
    int count = 0;
    for (int i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        double lx = NAN, ly = NAN;
        for (int k = 0; k < s->n; k++) {
            if (!usable(s->x[k], p->logx) || !usable(s->y[k], p->logy)) {
                lx = NAN;
                continue;
            }
            double x = px(f, s->x[k]), y = py(f, s->y[k]);
            int steps = (has_line(s->style) && isfinite(lx)) ? 8 : 1;
            for (int j = 1; j <= steps; j++) {
                double t = (double)j / steps;
                double qx = steps > 1 ? lx + t * (x - lx) : x, qy = steps > 1 ? ly + t * (y - ly) : y;
                if (qx >= bx0 && qx <= bx1 && qy >= by0 && qy <= by1) count++;
            }
            lx = x;
            ly = y;
        }
    }
    return count;
}

static void draw_plot(cairo_t *cr, const sy_plot *p, double W, double H)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    frame f;
    f.ax = fit_axis(p, 0);
    f.ay = fit_axis(p, 1);

    /* Legend size. */
    set_font(cr, 12, 0);
    int nleg = 0;
    double legw = 0;
    cairo_text_extents_t e;
    for (int i = 0; i < p->ns; i++)
        if (p->s[i].label[0]) {
            cairo_text_extents(cr, p->s[i].label, &e);
            if (e.x_advance > legw) legw = e.x_advance;
            nleg++;
        }
    legw += 46;
    double legh = nleg * 18 + 10;

    /* Margins: the left one fits the widest y tick label. */
    ticks yt, xt;
    set_font(cr, 12, 0);
    make_ticks(cr, f.ay, H - 100, 0, &yt);
    double ylw = 0;
    for (int i = 0; i < yt.n; i++) {
        cairo_text_extents(cr, yt.label[i], &e);
        if (e.x_advance > ylw) ylw = e.x_advance;
    }
    f.x0 = 14 + 18 + 8 + ylw + 6; /* ylabel, gap, labels, tick */
    f.x1 = W - 24;
    f.y0 = p->title[0] ? 46 : 20;
    f.y1 = H - 58;

    /* Legend: the inside corner hiding the fewest points, else outside right. */
    double lx = 0, ly = 0;
    if (nleg > 0) {
        double best = 1e18;
        double cx[4] = {f.x1 - 10 - legw, f.x0 + 10, f.x1 - 10 - legw, f.x0 + 10};
        double cy[4] = {f.y0 + 10, f.y0 + 10, f.y1 - 10 - legh, f.y1 - 10 - legh};
        for (int c = 0; c < 4; c++) {
            int n = covered(p, &f, cx[c] - 4, cy[c] - 4, cx[c] + legw + 4, cy[c] + legh + 4);
            if (n < best) best = n, lx = cx[c], ly = cy[c];
        }
        if (best > 0 || legw > (f.x1 - f.x0) * 0.6 || legh > (f.y1 - f.y0) * 0.8) {
            f.x1 = W - 24 - legw - 8;
            lx = f.x1 + 12;
            ly = f.y0;
        }
    }
    make_ticks(cr, f.ax, f.x1 - f.x0, 1, &xt);
    make_ticks(cr, f.ay, f.y1 - f.y0, 0, &yt);

    /* Title and axis labels. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (p->title[0]) {
        set_font(cr, 16, 1);
        text_at(cr, p->title, (f.x0 + f.x1) / 2, 22, 0.5, 0.5);
    }
    set_font(cr, 13, 0);
    text_at(cr, p->xlabel, (f.x0 + f.x1) / 2, H - 16, 0.5, 0.5);
    cairo_save(cr);
    cairo_translate(cr, 18, (f.y0 + f.y1) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, p->ylabel, 0, 0, 0.5, 0.5);
    cairo_restore(cr);

    /* Grid, ticks and tick labels. */
    set_font(cr, 12, 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < xt.n; i++) {
        double x = f.x0 + (xt.v[i] - f.ax.lo) / (f.ax.hi - f.ax.lo) * (f.x1 - f.x0);
        if (x < f.x0 - 0.5 || x > f.x1 + 0.5) continue;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f.y0);
        cairo_line_to(cr, x, f.y1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, f.y1);
        cairo_line_to(cr, x, f.y1 + 5);
        cairo_stroke(cr);
        text_at(cr, xt.label[i], x, f.y1 + 16, 0.5, 0.5);
    }
    for (int i = 0; i < yt.n; i++) {
        double y = f.y1 - (yt.v[i] - f.ay.lo) / (f.ay.hi - f.ay.lo) * (f.y1 - f.y0);
        if (y < f.y0 - 0.5 || y > f.y1 + 0.5) continue;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f.x0, y);
        cairo_line_to(cr, f.x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, f.x0 - 5, y);
        cairo_line_to(cr, f.x0, y);
        cairo_stroke(cr);
        text_at(cr, yt.label[i], f.x0 - 8, y, 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int i = 0; i < xt.nminor; i++) {
        double x = f.x0 + (xt.minor[i] - f.ax.lo) / (f.ax.hi - f.ax.lo) * (f.x1 - f.x0);
        cairo_move_to(cr, x, f.y1);
        cairo_line_to(cr, x, f.y1 + 3);
    }
    for (int i = 0; i < yt.nminor; i++) {
        double y = f.y1 - (yt.minor[i] - f.ay.lo) / (f.ay.hi - f.ay.lo) * (f.y1 - f.y0);
        cairo_move_to(cr, f.x0 - 3, y);
        cairo_line_to(cr, f.x0, y);
    }
    cairo_stroke(cr);

    /* Series, clipped to the axes. */
    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    int nmark = 0;
    for (int i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        const double *c = palette[i % NCOLORS];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        if (has_line(s->style)) {
            cairo_set_line_width(cr, 2);
            double dash[2] = {7, 4};
            cairo_set_dash(cr, dash, s->style == SY_PLOT_DASHED ? 2 : 0, 0);
            int pen = 0;
            for (int k = 0; k < s->n; k++) {
                if (!usable(s->x[k], p->logx) || !usable(s->y[k], p->logy)) {
                    pen = 0;
                    continue;
                }
                double x = px(&f, s->x[k]), y = py(&f, s->y[k]);
                if (pen)
                    cairo_line_to(cr, x, y);
                else
                    cairo_move_to(cr, x, y);
                pen = 1;
            }
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        if (has_marker(s->style)) {
            cairo_set_line_width(cr, 1.8);
            for (int k = 0; k < s->n; k++)
                if (usable(s->x[k], p->logx) && usable(s->y[k], p->logy))
                    marker(cr, nmark, px(&f, s->x[k]), py(&f, s->y[k]), s->n > 300 ? 2.2 : 3.5);
            nmark++;
        }
    }
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.2);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_stroke(cr);

    /* Legend. */
    if (nleg > 0) {
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
        cairo_rectangle(cr, lx, ly, legw, legh);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        set_font(cr, 12, 0);
        int row = 0;
        nmark = 0;
        for (int i = 0; i < p->ns; i++) {
            const series *s = &p->s[i];
            int mk = has_marker(s->style) ? nmark++ : -1;
            if (!s->label[0]) continue;
            const double *c = palette[i % NCOLORS];
            double y = ly + 14 + row * 18;
            cairo_set_source_rgb(cr, c[0], c[1], c[2]);
            if (has_line(s->style)) {
                double dash[2] = {7, 4};
                cairo_set_dash(cr, dash, s->style == SY_PLOT_DASHED ? 2 : 0, 0);
                cairo_set_line_width(cr, 2);
                cairo_move_to(cr, lx + 8, y);
                cairo_line_to(cr, lx + 34, y);
                cairo_stroke(cr);
                cairo_set_dash(cr, NULL, 0, 0);
            }
            if (mk >= 0) {
                cairo_set_line_width(cr, 1.8);
                marker(cr, mk, lx + 21, y, 3.5);
            }
            cairo_set_source_rgb(cr, 0, 0, 0);
            text_at(cr, s->label, lx + 40, y, 0, 0.5);
            row++;
        }
    }
}

/* A growing byte buffer for cairo's stream writers: each figure is drawn in
 * memory and written with sy_write_file_atomic, so a full disk leaves the
 * old file or none, never a truncated one. */
typedef struct {
    unsigned char *data;
    size_t n, cap;
} membuf;

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int len)
{
    membuf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + len) cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) return CAIRO_STATUS_NO_MEMORY;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Render draw(cr, ctx, W, H) to <base>.png and <base>.svg. */
typedef void (*draw_fn)(cairo_t *cr, const void *ctx, double W, double H);

static sy_status render_both(const char *base, draw_fn draw, const void *ctx, double W, double H)
{
    if (!sy_dist_is_root()) return SY_OK; /* distributed run: rank 0 draws the figures */
    char path[4200];
    snprintf(path, sizeof path, "%s.png", base);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(W * PNG_SCALE), (int)(H * PNG_SCALE));
    cairo_t *cr = cairo_create(img);
    cairo_scale(cr, PNG_SCALE, PNG_SCALE);
    draw(cr, ctx, W, H);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    membuf b = {NULL, 0, 0};
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png_stream(img, membuf_write, &b);
    cairo_surface_destroy(img);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(b.data);
        return sy_fail(SY_ERR_IO, "cannot draw plot %s: %s", path, cairo_status_to_string(st));
    }
    sy_status s = sy_write_file_atomic(path, b.data, b.n);
    free(b.data);
    if (s != SY_OK) return s;

    snprintf(path, sizeof path, "%s.svg", base);
    b = (membuf){NULL, 0, 0};
    cairo_surface_t *svg = cairo_svg_surface_create_for_stream(membuf_write, &b, W, H);
    cr = cairo_create(svg);
    draw(cr, ctx, W, H);
    st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(svg);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(svg);
    cairo_surface_destroy(svg);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(b.data);
        return sy_fail(SY_ERR_IO, "cannot draw plot %s: %s", path, cairo_status_to_string(st));
    }
    s = sy_write_file_atomic(path, b.data, b.n);
    free(b.data);
    return s;
}

static void draw_plot_cb(cairo_t *cr, const void *ctx, double W, double H) { draw_plot(cr, ctx, W, H); }

sy_status sy_plot_save(const sy_plot *p, const char *base)
{
    if (!p || !base || !*base) return sy_fail(SY_ERR_ARG, "plot: no figure or no path");
    return render_both(base, draw_plot_cb, p, FIG_W, FIG_H);
}

/* ---- Image grids ------------------------------------------------------------ */

typedef struct {
    const char *title;
    const float *images;
    int count, h, w, rows, cols;
    const char *const *labels;
    float vmin, vmax;
    double scale, gap, left, top;
} grid;

static void draw_grid(cairo_t *cr, const void *ctx, double W, double H)
{
    const grid *g = ctx;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (g->title && g->title[0]) {
        set_font(cr, 16, 1);
        text_at(cr, g->title, W / 2, 20, 0.5, 0.5);
    }
    set_font(cr, 13, 0);
    double cw = g->w * g->scale, ch = g->h * g->scale;
    for (int r = 0; g->labels && r < g->rows; r++)
        if (g->labels[r]) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            text_at(cr, g->labels[r], g->left - 10, g->top + r * (ch + g->gap) + ch / 2, 1, 0.5);
        }
    cairo_surface_t *im = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g->w, g->h);
    if (cairo_surface_status(im) != CAIRO_STATUS_SUCCESS) return;
    float span = g->vmax - g->vmin;
    if (!(span > 0)) span = 1;
    for (int i = 0; i < g->count && i < g->rows * g->cols; i++) {
        cairo_surface_flush(im);
        unsigned char *d = cairo_image_surface_get_data(im);
        int stride = cairo_image_surface_get_stride(im);
        const float *src = g->images + (size_t)i * g->h * g->w;
        for (int y = 0; y < g->h; y++)
            for (int x = 0; x < g->w; x++) {
                float v = (src[y * g->w + x] - g->vmin) / span;
                if (!(v >= 0)) v = 0; /* NaN too */
                if (v > 1) v = 1;
                uint32_t c = (uint32_t)(v * 255 + 0.5f);
                *(uint32_t *)(d + y * stride + 4 * x) = (c << 16) | (c << 8) | c;
            }
        cairo_surface_mark_dirty(im);
        double ox = g->left + (i % g->cols) * (cw + g->gap), oy = g->top + (i / g->cols) * (ch + g->gap);
        cairo_save(cr);
        cairo_translate(cr, ox, oy);
        cairo_scale(cr, g->scale, g->scale);
        cairo_set_source_surface(cr, im, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
        cairo_rectangle(cr, 0, 0, g->w, g->h);
        cairo_fill(cr);
        cairo_restore(cr);
        /* SVG embeds each image; a fresh surface keeps them distinct. */
        cairo_surface_destroy(im);
        im = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g->w, g->h);
    }
    cairo_surface_destroy(im);
}

sy_status sy_plot_image_grid(const char *base, const char *title, const float *images,
                             int count, int h, int w, int rows, int cols,
                             const char *const *row_labels, float vmin, float vmax)
{
    if (!base || !images || h <= 0 || w <= 0 || rows <= 0 || cols <= 0 || count < 0 || count > rows * cols)
        return sy_fail(SY_ERR_ARG, "image grid %s: invalid arguments (count %d, %dx%d images, %dx%d grid)",
                       base ? base : "(null)", count, h, w, rows, cols);
    grid g = {title, images, count, h, w, rows, cols, row_labels, vmin, vmax, 1, 4, 10, 10};
    int big = h > w ? h : w;
    g.scale = big >= 80 ? 1 : floor(80.0 / big);
    g.top = title && title[0] ? 40 : 10;
    /* Left margin: the widest row label. */
    if (row_labels) {
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
        cairo_t *cr = cairo_create(s);
        set_font(cr, 13, 0);
        for (int r = 0; r < rows; r++)
            if (row_labels[r]) {
                cairo_text_extents_t e;
                cairo_text_extents(cr, row_labels[r], &e);
                if (e.x_advance + 20 > g.left) g.left = e.x_advance + 20;
            }
        cairo_destroy(cr);
        cairo_surface_destroy(s);
    }
    double W = g.left + cols * (w * g.scale + g.gap) + 6;
    double H = g.top + rows * (h * g.scale + g.gap) + 6;
    if (title && W < 8.5 * strlen(title) + 20) W = 8.5 * strlen(title) + 20;
    return render_both(base, draw_grid, &g, W, H);
}
