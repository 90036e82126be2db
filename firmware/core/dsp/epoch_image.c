#include "dsp/epoch_image.h"

#include <string.h>

#include "protocol/crc32.h"

int32_t epoch_image_first_column(uint32_t epoch)
{
    /* The middle column is the one whose centre (j*HOP + N/2) is nearest the epoch's centre. */
    int64_t centre = (int64_t)epoch * DSP_EPOCH_SAMPLES + DSP_EPOCH_SAMPLES / 2;
    int64_t middle = (centre - DSP_STFT_N / 2 + DSP_STFT_HOP / 2) / DSP_STFT_HOP; /* >= 0: plain division floors */
    return (int32_t)(middle - DSP_IMAGE_FRAMES / 2);
}

void epoch_image_init(epoch_image_t *img)
{
    memset(img, 0, sizeof *img);
}

int8_t epoch_image_at(const epoch_image_t *img, int32_t first_column, uint32_t frame, uint32_t bin)
{
    int32_t col = first_column + (int32_t)frame;
    if (col < 0) {
        return EPOCH_IMAGE_EMPTY_VALUE;
    }
    return img->ring[(uint32_t)col % DSP_IMAGE_FRAMES][bin];
}

bool epoch_image_push(epoch_image_t *img, const int8_t column[DSP_STFT_BINS], epoch_image_info_t *out)
{
    uint32_t index = img->columns++;
    memcpy(img->ring[index % DSP_IMAGE_FRAMES], column, DSP_STFT_BINS);
    int32_t first = epoch_image_first_column(img->next_epoch);
    if ((int64_t)index != (int64_t)first + DSP_IMAGE_FRAMES - 1) {
        return false;
    }
    uint8_t empty[DSP_STFT_BINS];
    memset(empty, (uint8_t)EPOCH_IMAGE_EMPTY_VALUE, sizeof empty);
    uint32_t crc = 0;
    for (uint32_t f = 0; f < DSP_IMAGE_FRAMES; f++) {
        int32_t col = first + (int32_t)f;
        const uint8_t *bytes = col < 0 ? empty : (const uint8_t *)img->ring[(uint32_t)col % DSP_IMAGE_FRAMES];
        crc = crc32_update(crc, bytes, DSP_STFT_BINS);
    }
    out->epoch = img->next_epoch++;
    out->first_column = first;
    out->crc = crc;
    return true;
}
