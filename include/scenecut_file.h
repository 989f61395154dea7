/* --scene-cuts FILE: frame numbers that start a new scene, one per line ('#' comments). */
#ifndef VSR_SCENECUT_FILE_H
#define VSR_SCENECUT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "vsr_types.h"

typedef struct vsr_cut_list {
    int64_t *frames; /* ascending input frame numbers */
    size_t count;
} vsr_cut_list;

/* Numbers in the file count input frames from 0; 0 itself is no cut. */
int vsr_cut_list_load(vsr_cut_list *list, const char *path, vsr_err *err);
int vsr_cut_list_contains(const vsr_cut_list *list, int64_t frame);
void vsr_cut_list_free(vsr_cut_list *list);

#endif
