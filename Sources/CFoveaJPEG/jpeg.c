#include "FoveaJPEG.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

// libjpeg reports fatal errors through error_exit, which must not return: jump back to
// the caller's setjmp with the message saved.
struct fovea_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
};

static void fovea_error_exit(j_common_ptr info) {
    struct fovea_error *err = (struct fovea_error *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    if (err->message && err->message_size > 0) {
        snprintf(err->message, err->message_size, "%s", text);
    }
    longjmp(err->jump, 1);
}

// Corrupt-data warnings ("premature end of data segment") are errors here: a truncated
// file must not decode as a half-grey picture.
static void fovea_emit_message(j_common_ptr info, int level) {
    if (level < 0) fovea_error_exit(info);
}

static void set_message(char *message, size_t size, const char *text) {
    if (message && size > 0) snprintf(message, size, "%s", text);
}

int fovea_jpeg_decode(const uint8_t *data, size_t size, size_t max_pixels,
                      uint8_t **pixels, int *width, int *height, int *channels,
                      char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    struct fovea_error err;
    uint8_t *volatile buffer = NULL;
    *pixels = NULL;
    if (size == 0) { set_message(message, message_size, "empty input"); return 1; }
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = fovea_error_exit;
    err.base.emit_message = fovea_emit_message;
    err.message = message;
    err.message_size = message_size;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    // The header decides every allocation jpeg_start_decompress makes (progressive files get
    // a whole-image coefficient buffer there): check the declared size first.
    size_t w = info.image_width, h = info.image_height;
    if (w == 0 || h == 0 || w > max_pixels / h) {
        char text[128];
        snprintf(text, sizeof text, "image declares %zux%zu pixels, more than the budget of %zu", w, h, max_pixels);
        set_message(message, message_size, text);
        *width = (int)w;
        *height = (int)h;
        jpeg_destroy_decompress(&info);
        return 2;
    }
    info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    w = info.output_width;
    h = info.output_height;
    size_t c = (size_t)info.output_components;
    buffer = malloc(w * h * c);
    if (!buffer) {
        set_message(message, message_size, "out of memory");
        jpeg_destroy_decompress(&info);
        return 3;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + (size_t)info.output_scanline * w * c;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    *pixels = buffer;
    *width = (int)w;
    *height = (int)h;
    *channels = (int)c;
    return 0;
}

int fovea_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    struct jpeg_compress_struct info;
    struct fovea_error err;
    unsigned char *volatile buffer = NULL;
    unsigned long length = 0;
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        set_message(message, message_size, "JPEG needs a non-empty grey or RGB image");
        return 1;
    }
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = fovea_error_exit;
    err.message = message;
    err.message_size = message_size;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    unsigned char *target = NULL;
    jpeg_mem_dest(&info, &target, &length);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = channels;
    info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)info.next_scanline * (size_t)width * (size_t)channels);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    buffer = target;
    jpeg_destroy_compress(&info);
    *out = buffer;
    *out_size = (size_t)length;
    return 0;
}

void fovea_jpeg_free(void *buffer) { free(buffer); }
