/* Training accuracy of a batch from the step's own logits. */
#include "syre/trainer.h"

size_t sy_count_correct(const float *logits, size_t n, int k, const float *labels)
{
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        const float *z = logits + i * (size_t)k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[best]) best = j;
        correct += best == (int)labels[i];
    }
    return correct;
}
