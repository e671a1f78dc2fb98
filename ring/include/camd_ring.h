/*
 * camd_ring.h: read camd's camera rings from C and C++.
 *
 * A ring file (/run/camd/<camera>.ring) holds a camera's latest frames (JPEG, or raw NV12, RGB or
 * BGR pixels: camd_ring_get_pixel_layout) and its status.
 * This library maps it read-only and reads it with no lock and no syscall; it is the same Rust
 * code the Rust and Python readers use. Link with -lcamd_ring (pkg-config: camd-ring).
 *
 *     camd_ring *ring;
 *     if (camd_ring_open("/run/camd/front.ring", &ring) != CAMD_RING_OK) {
 *         fprintf(stderr, "%s\n", camd_ring_last_error());
 *         return 1;
 *     }
 *     camd_frame_view view;
 *     if (camd_ring_borrow_latest(ring, &view) == CAMD_RING_OK) {
 *         run_inference(view.data, view.len);            // the JPEG, in place, no copy
 *         if (!camd_ring_view_intact(ring, &view)) { ... } // overwritten meanwhile: discard
 *     }
 *     camd_ring_close(ring);
 *
 * A raw ring's pixel (x, y) in place, RGB (bytes R, G, B; BGR the other way round):
 *
 *     camd_pixel_layout l;
 *     camd_ring_get_pixel_layout(ring, &l);              // l.codec == CAMD_RING_CODEC_RGB
 *     const uint8_t *p = view.data + l.plane_offsets[0] + y * l.plane_strides[0] + 3 * x;
 *     // NV12: Y = view.data[l.plane_offsets[0] + y * l.plane_strides[0] + x],
 *     // U, V = the two bytes at l.plane_offsets[1] + (y / 2) * l.plane_strides[1] + (x / 2) * 2
 *
 * The file format itself is specified in docs/ring-format.md; the camd_ring_file_* structs
 * below repeat its layout for readers that implement the protocol themselves (fields written
 * after creation must then be read with atomic loads, see the document).
 *
 * Thread safety: one camd_ring handle may be used from several threads at once, except that
 * camd_ring_close must not run while another thread is still in a call on that handle (a
 * thread blocked in camd_ring_wait_next, for instance). Pointers into the mapping
 * (camd_frame_view.data) are valid until camd_ring_close.
 */
#ifndef CAMD_RING_H
#define CAMD_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAMD_RING_FORMAT_VERSION 1u

/* Return codes: 0 and positive are outcomes, negative are errors (message: camd_ring_last_error). */
#define CAMD_RING_OK 0
#define CAMD_RING_NO_FRAME 1            /* the camera has not produced a frame yet */
#define CAMD_RING_TIMEOUT 2             /* camd_ring_wait_next: no new frame within the timeout */
#define CAMD_RING_RETIRED 3             /* camd_ring_wait_next: a newer file replaced this one: reopen */
#define CAMD_RING_E_ARGUMENT (-1)       /* NULL pointer or bad argument */
#define CAMD_RING_E_IO (-2)             /* open/stat/mmap failed (missing file, permissions) */
#define CAMD_RING_E_FORMAT (-3)         /* not a ring, unsupported version, or corrupt field */
#define CAMD_RING_E_BUFFER_TOO_SMALL (-4) /* buffer smaller than the frame: use slot_capacity */
#define CAMD_RING_E_CONTENDED (-5)      /* the writer overwrote the frame on every attempt */
#define CAMD_RING_E_INTERNAL (-6)       /* bug in camd_ring */

/* camd_ring_status.state */
#define CAMD_RING_STATE_STARTING 0u
#define CAMD_RING_STATE_OK 1u
#define CAMD_RING_STATE_RETRYING 2u
#define CAMD_RING_STATE_CONNECTION_FAILED 3u
#define CAMD_RING_STATE_NO_SIGNAL 4u
#define CAMD_RING_STATE_STOPPED 5u

/* camd_ring_info.codec: what the frames are. JPEG: whole baseline JPEG files. The others are
 * raw pixels laid out as camd_ring_get_pixel_layout() says (docs/ring-format.md, "Raw frames"):
 * NV12: a Y plane (1 byte per pixel) then an interleaved U,V plane (half width, half height);
 * RGB and BGR: packed 24-bit pixels in that byte order (BGR is OpenCV's). */
#define CAMD_RING_CODEC_JPEG 1u
#define CAMD_RING_CODEC_NV12 2u
#define CAMD_RING_CODEC_RGB 3u
#define CAMD_RING_CODEC_BGR 4u

/* header.compat_features bit 0: the writer wakes the futex on index.notify after every
 * publish, so a blocked reader sleeps in FUTEX_WAIT and writes nothing (camd 0.2). Without it
 * (camd 0.1 files) poll. See docs/ring-format.md, "Waiting for the next frame". */
#define CAMD_RING_COMPAT_WAKE_EVERY_PUBLISH 1u
/* header.compat_features bit 1: the writer fills slot.flags bit 0 (CAMD_RING_SLOT_FLAG_CAMERA_TIME)
 * and slot.ts_camera_ns for the frames whose camera gives its own capture time. In a file
 * without it, no frame has a camera time. camd_ring_camera_time() applies both rules. */
#define CAMD_RING_COMPAT_CAMERA_TIME 2u

/* slot.flags bit 0: slot.ts_camera_ns holds the camera's capture time of this frame. */
#define CAMD_RING_SLOT_FLAG_CAMERA_TIME 1u

typedef struct camd_ring camd_ring; /* an open reader */

typedef struct camd_frame_meta {
    uint64_t seq;            /* 1 for the ring's first frame, +1 per frame */
    uint64_t ts_realtime_ns; /* capture time, CLOCK_REALTIME */
    uint64_t ts_mono_ns;     /* capture time, CLOCK_MONOTONIC (frame age = now - this) */
    uint32_t len;            /* frame length in bytes (a raw ring's frame_size) */
    uint32_t width;
    uint32_t height;
    uint32_t slot;
} camd_frame_meta;

typedef struct camd_frame_view {
    const uint8_t *data; /* the frame inside the shared mapping: read-only */
    size_t len;
    camd_frame_meta meta;
} camd_frame_view;

typedef struct camd_ring_info {
    char name[64]; /* camera name, NUL-terminated UTF-8 */
    uint32_t format_version;
    uint32_t slot_count;
    uint32_t slot_capacity; /* largest frame in bytes: a buffer this big always suffices */
    uint32_t codec;         /* CAMD_RING_CODEC_*; camd_ring_codec_name() gives the string */
    uint32_t width;         /* configured output size (0 if unknown) */
    uint32_t height;
    uint64_t file_size;
    uint64_t created_realtime_ns;
} camd_ring_info;

/* Where a raw frame's pixels are. Every frame of a raw ring is frame_size bytes (a frame of
 * another length is corrupt); row r of plane p starts at plane_offsets[p] + r * plane_strides[p]
 * from the frame's first byte. NV12 has planes 0 (Y, height rows) and 1 (UV, height / 2 rows);
 * RGB and BGR have plane 0 only. For a JPEG ring every field but codec, width, height is 0. */
typedef struct camd_pixel_layout {
    uint32_t codec; /* CAMD_RING_CODEC_* */
    uint32_t width;
    uint32_t height;
    uint32_t frame_size;
    uint32_t plane_offsets[2];
    uint32_t plane_strides[2];
} camd_pixel_layout;

typedef struct camd_ring_status {
    uint32_t state; /* CAMD_RING_STATE_*; camd_ring_state_name() gives the string */
    uint32_t retry_count;
    uint32_t max_retry_attempts;
    uint32_t writer_pid;
    uint64_t generation;         /* changes whenever a writer (re)starts */
    uint64_t latest_seq;         /* frames published */
    int64_t next_retry_in_ms;    /* -1 if no retry is pending */
    uint64_t state_since_realtime_ns;
    uint64_t heartbeat_age_ms;   /* time since the writer's last sign of life */
    uint64_t heartbeat_realtime_ns;
    uint32_t fps_milli;          /* measured frames per second x 1000 */
    uint32_t source_width;
    uint32_t source_height;
    uint32_t retired;            /* 1: a newer file replaced this one: close and reopen */
    uint64_t drops;
    uint64_t oversize;
    uint64_t reconnects;
    uint64_t last_error_realtime_ns;
    char input_codec[16];
    char decoder[48];
    char encoder[48];
    char last_error[256];
} camd_ring_status;

uint32_t camd_ring_format_version(void);
/* Message of the last error on this thread ("" if none). Valid until the next call that fails. */
const char *camd_ring_last_error(void);
/* "starting", "ok", "retrying", "connection_failed", "no_signal", "stopped" or "unknown". */
const char *camd_ring_state_name(uint32_t state);
/* "jpeg", "nv12", "rgb", "bgr" (camd's `format` names) or "unknown". */
const char *camd_ring_codec_name(uint32_t codec);

/* Opens and validates a ring file; *out receives the handle (NULL on failure). */
int camd_ring_open(const char *path, camd_ring **out);
void camd_ring_close(camd_ring *ring);
int camd_ring_get_info(const camd_ring *ring, camd_ring_info *out);
/* The frames' pixel layout (validated when the ring was opened). CAMD_RING_OK. */
int camd_ring_get_pixel_layout(const camd_ring *ring, camd_pixel_layout *out);

/* Sequence number of the newest frame (0: none yet). One atomic load. */
uint64_t camd_ring_latest_seq(const camd_ring *ring);
/* Metadata of the newest frame. CAMD_RING_OK or CAMD_RING_NO_FRAME. */
int camd_ring_latest(const camd_ring *ring, camd_frame_meta *out);
/* Copies the newest frame into buf; never torn (retries if overwritten mid-copy). out may be NULL. */
int camd_ring_copy_latest(const camd_ring *ring, uint8_t *buf, size_t buf_len, camd_frame_meta *out);
/* The newest frame in place, no copy. The writer does not wait for readers: after using the
 * bytes, camd_ring_view_intact() says whether they were still that frame (1) or overwritten (0;
 * also 0 on error). Treat the bytes as untrusted until then: they may change while you read them. */
int camd_ring_borrow_latest(const camd_ring *ring, camd_frame_view *out);
int camd_ring_view_intact(const camd_ring *ring, const camd_frame_view *view);
/* The capture time of *frame (metadata from camd_ring_latest, _copy_latest, _wait_next or a
 * view's meta) by the camera's own clock, ns since the Unix epoch: CAMD_RING_OK with *out_ns set,
 * 0 when the frame has no camera time (the camera gave none: V4L2, a camera without RTCP sender
 * reports, the stream's first second or so before the first report); CAMD_RING_NO_FRAME (and
 * *out_ns 0) when the ring no longer holds that frame (ask soon after reading it). No syscall.
 * The camera's clock may be off from this machine's by any amount. */
int camd_ring_camera_time(const camd_ring *ring, const camd_frame_meta *frame, uint64_t *out_ns);
/* Blocks until a frame newer than after_seq exists (CAMD_RING_OK, *out filled), timeout_ms
 * passes (CAMD_RING_TIMEOUT), or the file is replaced by a newer one (CAMD_RING_RETIRED: close
 * and reopen the path). Pass camd_ring_latest_seq() to wait for the next frame. */
int camd_ring_wait_next(const camd_ring *ring, uint64_t after_seq, uint32_t timeout_ms, camd_frame_meta *out);
/* A consistent status snapshot. */
int camd_ring_get_status(const camd_ring *ring, camd_ring_status *out);
/* 1 if the writer gave a sign of life within timeout_ms (3000 is a good value), else 0 (also on error). */
int camd_ring_writer_alive(const camd_ring *ring, uint32_t timeout_ms);
/* 1 if the path now names another file (or none): reopen. Two stat() calls. */
int camd_ring_is_replaced(const camd_ring *ring);

/* ---- The file layout (format version 1), for readers that implement the protocol ---- */

typedef struct camd_ring_file_header { /* offset 0, immutable after creation */
    uint8_t magic[8];  /* "CAMDRING" */
    uint32_t version;  /* 1 */
    uint32_t header_size; /* 4096 */
    uint64_t file_size;
    uint64_t slots_offset;
    uint64_t slot_stride;
    uint32_t slot_count;
    uint32_t slot_capacity;
    uint32_t slot_header_size; /* 64 */
    uint32_t codec;
    uint32_t width;
    uint32_t height;
    uint32_t compat_features;
    uint32_t incompat_features;
    uint64_t created_realtime_ns;
    char name[64];
    uint32_t plane_offsets[2]; /* raw codecs: camd_pixel_layout; 0 for JPEG */
    uint32_t plane_strides[2];
    uint32_t frame_size;
    uint8_t reserved[92];
} camd_ring_file_header;

typedef struct camd_ring_file_index { /* offset 256 */
    uint64_t latest_seq;
    uint32_t notify; /* futex word */
    uint32_t reserved0;
    uint8_t reserved[48];
} camd_ring_file_index;

typedef struct camd_ring_file_liveness { /* offset 320 */
    uint64_t heartbeat_mono_ns;
    uint64_t heartbeat_realtime_ns;
    uint32_t retired;
    uint32_t reserved0;
    uint8_t reserved[40];
} camd_ring_file_liveness;

typedef struct camd_ring_file_status { /* offset 384, seqlock on seq */
    uint64_t seq;
    uint32_t state;
    uint32_t retry_count;
    uint32_t max_retry_attempts;
    uint32_t writer_pid;
    uint64_t generation;
    uint64_t next_retry_mono_ns;
    uint64_t state_since_realtime_ns;
    uint32_t fps_milli;
    uint32_t source_width;
    uint32_t source_height;
    uint32_t reserved0;
    uint64_t drops;
    uint64_t oversize;
    uint64_t reconnects;
    uint64_t last_error_realtime_ns;
    char input_codec[16];
    char decoder[48];
    char encoder[48];
    char last_error[256];
    uint8_t reserved[48];
} camd_ring_file_status;

typedef struct camd_ring_file_slot { /* at slots_offset + i * slot_stride; frame bytes follow */
    uint64_t seq; /* frame_seq << 1 when complete, | 1 while being written, 0 never used */
    uint32_t len;
    uint32_t width;
    uint32_t height;
    uint32_t flags; /* bit 0: CAMD_RING_SLOT_FLAG_CAMERA_TIME */
    uint64_t ts_realtime_ns;
    uint64_t ts_mono_ns;
    uint64_t ts_camera_ns; /* camera's clock, Unix epoch; with the flag in a COMPAT_CAMERA_TIME file */
    uint8_t reserved[16];
} camd_ring_file_slot;

#if defined(__cplusplus)
#define CAMD_RING_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define CAMD_RING_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_file_header) == 256, "header size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_header, file_size) == 16, "header.file_size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_header, slot_count) == 40, "header.slot_count");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_header, codec) == 52, "header.codec");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_header, created_realtime_ns) == 72, "header.created_realtime_ns");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_header, name) == 80, "header.name");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_file_index) == 64, "index size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_index, notify) == 8, "index.notify");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_file_liveness) == 64, "liveness size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_liveness, retired) == 16, "liveness.retired");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_file_status) == 512, "status size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_status, generation) == 24, "status.generation");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_status, fps_milli) == 48, "status.fps_milli");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_status, drops) == 64, "status.drops");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_status, input_codec) == 96, "status.input_codec");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_status, last_error) == 208, "status.last_error");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_file_slot) == 64, "slot header size");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_slot, ts_mono_ns) == 32, "slot.ts_mono_ns");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_file_slot, ts_camera_ns) == 40, "slot.ts_camera_ns");
CAMD_RING_STATIC_ASSERT(sizeof(camd_frame_meta) == 40, "camd_frame_meta");
CAMD_RING_STATIC_ASSERT(sizeof(camd_frame_view) == 2 * sizeof(void *) + 40, "camd_frame_view");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_info) == 104, "camd_ring_info");
CAMD_RING_STATIC_ASSERT(sizeof(camd_pixel_layout) == 32, "camd_pixel_layout");
CAMD_RING_STATIC_ASSERT(sizeof(camd_ring_status) == 480, "camd_ring_status");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_status, fps_milli) == 64, "camd_ring_status.fps_milli");
CAMD_RING_STATIC_ASSERT(offsetof(camd_ring_status, input_codec) == 112, "camd_ring_status.input_codec");

#ifdef __cplusplus
}
#endif

#endif /* CAMD_RING_H */
