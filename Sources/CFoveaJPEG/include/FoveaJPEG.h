// JPEG decoding and encoding through libjpeg(-turbo), with libjpeg's fatal errors turned
// into return codes (setjmp/longjmp), so a corrupt file is an error, never an exit().
#ifndef FOVEA_JPEG_H
#define FOVEA_JPEG_H
#include <stddef.h>
#include <stdint.h>

/// Decodes `size` bytes of JPEG. On success returns 0 and sets `*pixels` to a malloc'd
/// interleaved 8-bit buffer of `*width x *height x *channels` (1 grey or 3 RGB; CMYK and
/// other spaces are converted to RGB by libjpeg where it can) that the caller frees with
/// `fovea_jpeg_free`. Images whose header declares more than `max_pixels` pixels (or none)
/// are refused before anything is allocated: the return value is 2 and `*width`/`*height`
/// hold the declared size. On any other failure returns 1 (or 3: out of memory) and writes
/// libjpeg's message into `message` (at most `message_size` bytes, NUL-terminated).
int fovea_jpeg_decode(const uint8_t *data, size_t size, size_t max_pixels,
                      uint8_t **pixels, int *width, int *height, int *channels,
                      char *message, size_t message_size);

/// Encodes interleaved 8-bit pixels (1 or 3 channels) at `quality` (1-100). On success
/// returns 0 and sets `*out`/`*out_size` to a malloc'd buffer freed with `fovea_jpeg_free`.
int fovea_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// Frees a buffer returned by the functions above.
void fovea_jpeg_free(void *buffer);

#endif
