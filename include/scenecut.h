/*
 * Hard-cut detection on the low-resolution frames: cheap and deterministic.
 * Feed frames in order; the detector says whether each one starts a new scene.
 */
#ifndef VSR_SCENECUT_H
#define VSR_SCENECUT_H

#include <stdint.h>

typedef struct vsr_scenecut vsr_scenecut;

vsr_scenecut *vsr_scenecut_alloc(int width, int height);
void vsr_scenecut_free(vsr_scenecut **sc);
/*
 * `rgb` is planar float RGB in [0, 1] (3 * height * width). Returns 1 when this frame
 * starts a new scene (never for the first frame), else 0.
 */
int vsr_scenecut_push(vsr_scenecut *sc, const float *rgb);

#endif
