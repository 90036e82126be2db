/* Epoch images: placement of each epoch's columns, and a harness for the twin comparison. */
#include <string.h>

#include "check.h"
#include "dsp/epoch_image.h"

void run_epoch_image_tests(check_totals_t *t)
{
    /* Epoch 0's centre (sample 750) is nearest column 11's centre (11*64 + 64 = 768). */
    CHECK(t, epoch_image_first_column(0) == 11 - (int32_t)DSP_IMAGE_FRAMES / 2, "epoch 0 starts at %d",
          (int)epoch_image_first_column(0));
    uint32_t k = 0;
    int32_t mid = 0;
    for (; k < 2000; k++) {
        mid = epoch_image_first_column(k) + (int32_t)DSP_IMAGE_FRAMES / 2;
        int64_t centre = (int64_t)k * DSP_EPOCH_SAMPLES + DSP_EPOCH_SAMPLES / 2;
        int64_t here = (int64_t)mid * DSP_STFT_HOP + DSP_STFT_N / 2;
        int64_t next = here + DSP_STFT_HOP;
        int64_t prev = here - DSP_STFT_HOP;
        int64_t d = here > centre ? here - centre : centre - here;
        bool nearest = d <= (next > centre ? next - centre : centre - next) && d <= (centre > prev ? centre - prev : prev - centre);
        if (!nearest) {
            break;
        }
    }
    /* one check for the 2000 placements: the first epoch whose middle column is not the nearest stops it */
    CHECK(t, k == 2000u, "epoch %u: middle column %d is not the nearest", (unsigned)k, (int)mid);

    static epoch_image_t img;
    epoch_image_init(&img);
    int8_t column[DSP_STFT_BINS];
    uint32_t completed = 0;
    epoch_image_info_t info = {0, 0, 0};
    for (uint32_t j = 0; j < 200; j++) {
        memset(column, (int)(j & 0x7F), sizeof column);
        if (epoch_image_push(&img, column, &info)) {
            completed++;
            CHECK(t, (int32_t)j == info.first_column + (int32_t)DSP_IMAGE_FRAMES - 1, "image %u ends at column %u",
                  (unsigned)info.epoch, (unsigned)j);
            CHECK(t, epoch_image_at(&img, info.first_column, DSP_IMAGE_FRAMES - 1, 0) == (int8_t)(j & 0x7F),
                  "last column readable");
        }
    }
    /* 200 columns = 256 s of signal: epochs 0..7 end by column 199 (epoch 7 ends at 7*1500+750 + ~46 s). */
    CHECK(t, completed == info.epoch + 1 && completed >= 7, "%u images from 200 columns", (unsigned)completed);
    CHECK(t, epoch_image_at(&img, -5, 0, 3) == EPOCH_IMAGE_EMPTY_VALUE, "columns before the start read as empty");
}

/* in: u32 n_columns, then n_columns x DSP_STFT_BINS int8.
 * out: per completed image: u32 epoch, i32 first_column, u32 crc. */
int harness_epoch_image(FILE *in, FILE *out)
{
    static epoch_image_t img;
    epoch_image_init(&img);
    uint32_t n;
    if (fread(&n, sizeof n, 1, in) != 1) {
        return 1;
    }
    for (uint32_t j = 0; j < n; j++) {
        int8_t column[DSP_STFT_BINS];
        if (fread(column, 1, sizeof column, in) != sizeof column) {
            return 1;
        }
        epoch_image_info_t info;
        if (epoch_image_push(&img, column, &info)) {
            fwrite(&info.epoch, 4, 1, out);
            fwrite(&info.first_column, 4, 1, out);
            fwrite(&info.crc, 4, 1, out);
        }
    }
    return 0;
}
