/*
 * read_latest: the smallest useful C reader of a camd ring.
 *
 *   read_latest RING               print the ring's info, status and latest frame (with the
 *                                  camera's capture time, when the camera gives it; for raw
 *                                  pixels, the layout and two pixels of the frame)
 *   read_latest RING --wait N      then wait for N new frames, printing each
 *
 * Build: cc -I ring/include read_latest.c -L target/debug -lcamd_ring
 * (or: cc $(pkg-config --cflags --libs camd-ring) read_latest.c)
 * Output lines match the Python and Rust examples byte for byte (the tests compare them).
 */
#include <camd_ring.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const uint8_t *data, size_t len) {
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

/* camera_ns: the camera's capture time, 0 when the camera gave none. */
static void print_frame(const camd_frame_meta *m, uint64_t camera_ns, uint64_t hash) {
    char camera[24] = "none";
    if (camera_ns != 0) snprintf(camera, sizeof camera, "%" PRIu64, camera_ns);
    printf("frame seq=%" PRIu64 " len=%" PRIu32 " width=%" PRIu32 " height=%" PRIu32
           " ts_mono_ns=%" PRIu64 " ts_camera_ns=%s fnv1a=%016" PRIx64 "\n",
           m->seq, m->len, m->width, m->height, m->ts_mono_ns, camera, hash);
}

/* Writes the line for pixel (x, y) of a raw frame laid out as *l (frame_size bytes at frame) into
 * out: R,G,B for RGB and BGR, Y,U,V for NV12 (the U,V pair of its 2x2 block), found through the
 * layout's offsets and strides, as any reader must address them (docs/ring-format.md, "Raw
 * frames"). Returns the characters written, as snprintf. */
static int pixel_line(char *out, size_t size, const camd_pixel_layout *l, const uint8_t *frame,
                      uint32_t x, uint32_t y) {
    const uint8_t *row = frame + l->plane_offsets[0] + (size_t)y * l->plane_strides[0];
    unsigned v[3];
    if (l->codec == CAMD_RING_CODEC_NV12) {
        const uint8_t *uv = frame + l->plane_offsets[1] + (size_t)(y / 2) * l->plane_strides[1] + (x / 2) * 2;
        v[0] = row[x], v[1] = uv[0], v[2] = uv[1];
    } else {
        const uint8_t *p = row + 3 * (size_t)x;
        int bgr = l->codec == CAMD_RING_CODEC_BGR;
        v[0] = p[bgr ? 2 : 0], v[1] = p[1], v[2] = p[bgr ? 0 : 2];
    }
    return snprintf(out, size, "pixel x=%" PRIu32 " y=%" PRIu32 " %s=%u,%u,%u\n", x, y,
                    l->codec == CAMD_RING_CODEC_NV12 ? "yuv" : "rgb", v[0], v[1], v[2]);
}

/* The lines for a raw frame's first and last pixels into out ("" for JPEG: frame_size 0). */
static void pixel_lines(char *out, size_t size, const camd_pixel_layout *l, const uint8_t *frame) {
    out[0] = '\0';
    if (l->frame_size == 0) return;
    int n = pixel_line(out, size, l, frame, 0, 0);
    if (n > 0 && (size_t)n < size) pixel_line(out + n, size - n, l, frame, l->width - 1, l->height - 1);
}

/* Copies the newest frame and reads its camera time; copies again if the frame left the ring in
 * between (the writer reused its slot), so the time is always the copied frame's. */
static int copy_latest(const camd_ring *ring, uint8_t *buf, size_t len, camd_frame_meta *meta,
                       uint64_t *camera_ns) {
    for (;;) {
        int got = camd_ring_copy_latest(ring, buf, len, meta);
        if (got != CAMD_RING_OK) return got;
        got = camd_ring_camera_time(ring, meta, camera_ns);
        if (got != CAMD_RING_NO_FRAME) return got;
    }
}

static int fail(const char *what) {
    fprintf(stderr, "read_latest: %s: %s\n", what, camd_ring_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2 && !(argc >= 4 && strcmp(argv[2], "--wait") == 0)) {
        fprintf(stderr, "usage: read_latest RING [--wait N [--timeout-ms T]]\n");
        return 2;
    }
    long wait = argc >= 4 ? strtol(argv[3], NULL, 10) : 0;
    uint32_t timeout_ms = argc >= 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : 5000;

    camd_ring *ring;
    if (camd_ring_open(argv[1], &ring) != CAMD_RING_OK) return fail("open");
    camd_ring_info info;
    camd_pixel_layout layout;
    camd_ring_status status;
    if (camd_ring_get_info(ring, &info) != CAMD_RING_OK) return fail("info");
    if (camd_ring_get_pixel_layout(ring, &layout) != CAMD_RING_OK) return fail("layout");
    if (camd_ring_get_status(ring, &status) != CAMD_RING_OK) return fail("status");
    printf("info name=%s slots=%" PRIu32 " capacity=%" PRIu32 " codec=%s width=%" PRIu32
           " height=%" PRIu32 "\n",
           info.name, info.slot_count, info.slot_capacity, camd_ring_codec_name(info.codec),
           info.width, info.height);
    /* Raw pixels (codec NV12, RGB, BGR): where they are in every frame. */
    if (layout.codec != CAMD_RING_CODEC_JPEG)
        printf("layout frame_size=%" PRIu32 " plane_offsets=%" PRIu32 ",%" PRIu32
               " plane_strides=%" PRIu32 ",%" PRIu32 "\n",
               layout.frame_size, layout.plane_offsets[0], layout.plane_offsets[1],
               layout.plane_strides[0], layout.plane_strides[1]);
    printf("status state=%s generation=%" PRIu64 " latest_seq=%" PRIu64 "\n",
           camd_ring_state_name(status.state), status.generation, status.latest_seq);

    /* A buffer of slot_capacity bytes holds any frame of this ring. */
    uint8_t *buf = malloc(info.slot_capacity);
    if (!buf) return 1;
    camd_frame_meta meta;
    uint64_t camera_ns;
    char pixels[160]; /* two pixel lines */
    int rc = 0;
    if (wait == 0) {
        int got = copy_latest(ring, buf, info.slot_capacity, &meta, &camera_ns);
        if (got == CAMD_RING_OK) {
            print_frame(&meta, camera_ns, fnv1a(buf, meta.len));
            pixel_lines(pixels, sizeof pixels, &layout, buf);
            fputs(pixels, stdout);
        } else if (got == CAMD_RING_NO_FRAME) printf("no frame\n");
        else rc = fail("copy");
    } else {
        uint64_t after = camd_ring_latest_seq(ring);
        printf("ready\n");
        fflush(stdout);
        for (long i = 0; i < wait && rc == 0; i++) {
            int got = camd_ring_wait_next(ring, after, timeout_ms, &meta);
            if (got == CAMD_RING_TIMEOUT) { printf("timeout\n"); rc = 3; break; }
            if (got != CAMD_RING_OK) { rc = fail("wait"); break; }
            /* Work on the newest frame in place; keep the result only if it was not overwritten.
             * (A raw frame's pixels too: read in place, printed only if the frame was intact.) */
            camd_frame_view view;
            if (camd_ring_borrow_latest(ring, &view) == CAMD_RING_OK && view.meta.seq == meta.seq) {
                uint64_t hash = fnv1a(view.data, view.len);
                pixel_lines(pixels, sizeof pixels, &layout, view.data);
                if (camd_ring_camera_time(ring, &view.meta, &camera_ns) == CAMD_RING_OK &&
                    camd_ring_view_intact(ring, &view) == 1) {
                    print_frame(&view.meta, camera_ns, hash);
                    fputs(pixels, stdout);
                    after = view.meta.seq;
                    fflush(stdout);
                    continue;
                }
            }
            if (copy_latest(ring, buf, info.slot_capacity, &meta, &camera_ns) != CAMD_RING_OK) { rc = fail("copy"); break; }
            print_frame(&meta, camera_ns, fnv1a(buf, meta.len));
            pixel_lines(pixels, sizeof pixels, &layout, buf);
            fputs(pixels, stdout);
            after = meta.seq;
            fflush(stdout);
        }
    }
    free(buf);
    camd_ring_close(ring);
    return rc;
}
