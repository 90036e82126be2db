/* RELU and RELU6 as standalone ops, int8: bit-exact with TFLM's ReluQuantized and Relu6Quantized
 * (tensorflow/lite/micro/kernels/activations*.cc).
 *
 * The converter leaves a RELU standalone where it cannot fuse it (after a dilated convolution without bias:
 * SPACE_TO_BATCH_ND, CONV_2D, BATCH_TO_SPACE_ND, RELU). TFLM's RELU rescales: out = clamp(out_zp +
 * MultiplyByQuantizedMultiplier(in - in_zp, in_scale / out_scale), max(-128, out_zp), 127). Its RELU6 does not
 * (output quantization taken equal to the input's): out = clamp(in, in_zp, six), six = 6 quantized with the
 * input's scale and zero point. The host works out the multiplier and the clamp range
 * (vigil.export.plan.relu_params). */
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_relu_s8(const nn_relu_params_t *p, const int8_t *input, int8_t *output)
{
    if (!p->rescale) {
        for (uint32_t i = 0; i < p->size; i++) {
            output[i] = (int8_t)nn_clamp_i32(input[i], p->activation_min, p->activation_max);
        }
        return;
    }
    /* TFLM subtracts the zero point (not adds an offset) before the multiply; the multiplier is per tensor */
    const nn_requant_channel_t r = nn_requant_channel(p->output_multiplier, p->output_shift, p->output_offset,
                                                      p->activation_min, p->activation_max);
    for (uint32_t i = 0; i < p->size; i++) {
        output[i] = nn_requant_apply(&r, (int32_t)input[i] - p->input_zero_point);
    }
}
