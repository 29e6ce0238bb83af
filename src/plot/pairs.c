/* Two sets of images side by side, row against row (inputs and their
 * reconstructions): sy_plot_image_pairs (include/syre/plot.h). */
#include <stdlib.h>
#include <string.h>

#include "syre/plot.h"

sy_status sy_plot_image_pairs(const char *base, const char *title, const float *a, const float *b, int n, int h,
                              int w, int cols, const char *label_a, const char *label_b, float vmin, float vmax)
{
    if (!base || !a || !b || n <= 0 || h <= 0 || w <= 0 || cols <= 0 || n % cols)
        return sy_fail(SY_ERR_ARG, "image pairs %s: invalid arguments (%d images of %dx%d in rows of %d)",
                       base ? base : "(null)", n, h, w, cols);
    int rows = 2 * (n / cols);
    size_t px = (size_t)h * w;
    float *img = malloc(sizeof(float) * 2 * (size_t)n * px);
    const char **labels = malloc(sizeof(char *) * (size_t)rows);
    sy_status s = SY_OK;
    if (!img || !labels) {
        s = sy_fail(SY_ERR_NOMEM, "image pairs %s: out of memory", base);
        goto out;
    }
    for (int r = 0; r < rows; r++) {
        labels[r] = r % 2 == 0 ? label_a : label_b;
        for (int j = 0; j < cols; j++) {
            size_t src = (size_t)(r / 2) * cols + j;
            memcpy(img + (size_t)(r * cols + j) * px, (r % 2 == 0 ? a : b) + src * px, sizeof(float) * px);
        }
    }
    s = sy_plot_image_grid(base, title, img, 2 * n, h, w, rows, cols, labels, vmin, vmax);
out:
    free(img);
    free(labels);
    return s;
}
