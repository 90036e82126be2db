/* Epoch images for the sleep CNN: DSP_IMAGE_FRAMES spectrogram columns centred on each
 * 30-s epoch, kept in a ring so the device never holds more than one image of columns.
 * Twin: vigil.dsp.epoch_image. Column j covers derivative samples [j*HOP, j*HOP + N);
 * epoch k's first column is epoch_image_first_column(k) (may be negative: such columns
 * read as -128, the lowest int8 value). An image is complete when its last column arrives. */
#ifndef VIGIL_EPOCH_IMAGE_H
#define VIGIL_EPOCH_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

#define EPOCH_IMAGE_BYTES (DSP_IMAGE_FRAMES * DSP_STFT_BINS)
#define EPOCH_IMAGE_EMPTY_VALUE (-128)

typedef struct epoch_image {
    int8_t ring[DSP_IMAGE_FRAMES][DSP_STFT_BINS];
    uint32_t columns;    /* columns pushed so far = index of the next column */
    uint32_t next_epoch; /* the earliest epoch whose image is not complete yet */
} epoch_image_t;

typedef struct epoch_image_info {
    uint32_t epoch;
    int32_t first_column;
    uint32_t crc; /* CRC-32 of the image, column after column, DSP_STFT_BINS int8 each */
} epoch_image_info_t;

int32_t epoch_image_first_column(uint32_t epoch);
void epoch_image_init(epoch_image_t *img);

/* Add the next column; true when it completed an epoch's image (then *out describes it). */
bool epoch_image_push(epoch_image_t *img, const int8_t column[DSP_STFT_BINS], epoch_image_info_t *out);

/* Byte i of the image just completed (valid until the next push), for consumers such as the CNN. */
int8_t epoch_image_at(const epoch_image_t *img, int32_t first_column, uint32_t frame, uint32_t bin);

#endif
