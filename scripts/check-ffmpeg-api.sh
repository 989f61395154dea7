#!/usr/bin/env bash
# Syntax-check vsrup's C sources against several FFmpeg header trees (5.1 .. 7.x, DESIGN.md).
#
#   scripts/check-ffmpeg-api.sh HEADER_DIR...        check src/*.c against each tree
#   scripts/check-ffmpeg-api.sh --make-model VER DIR  write a header tree modelling FFmpeg VER
#                                                     (6.1 or 7.1) into DIR
#   scripts/check-ffmpeg-api.sh --debian SUITE DIR    put Debian SUITE's libav*-dev headers
#                                                     into DIR (trixie: the real FFmpeg 7.1)
#   scripts/check-ffmpeg-api.sh --all WORKDIR         check the installed tree, the 6.1 model
#                                                     and trixie's 7.1 (fetched once into
#                                                     WORKDIR); exit 77 when that fetch fails
#
# A HEADER_DIR holds libavcodec/, libavformat/, libavutil/, libswscale/ as an install puts them
# (`pkg-config --variable=includedir libavcodec`; on Debian 12 /usr/include/x86_64-linux-gnu is
# the installed 5.1). Each src/*.c (not engine_torch.cpp) and tests/unit/*.c is compiled with
#   cc -std=c11 -fsyntax-only -Wall -Wextra -Werror=implicit-function-declaration
#      -Werror=incompatible-pointer-types -I include -I tests/unit -I HEADER_DIR
# (plus -D_DEFAULT_SOURCE for the POSIX calls, which CMake's gnu11 default exposes, and VSR_VERSION)
# and reported per file; deprecation warnings are listed (they are the next major's errors).
# Exit status 1 when any file has an error or a warning, 0 when every tree is clean.
# Because the system's own FFmpeg headers sit on the default search path, the script also fails
# a file that pulled an FFmpeg header from outside HEADER_DIR (an incomplete tree).
#
# The real 7.1 headers come from Debian 13 (trixie), whose archive this project's machines reach
# (--debian: apt-get download of the -dev packages with a private apt state, nothing installed).
# No Debian suite carries 6.x any more; where the 6.1 tree (and, offline, the 7.1 one) comes
# from: no FFmpeg 6.x/7.x is installed here, and the public code index this project can read holds one content-deduplicated copy
# of each FFmpeg file from mixed commits (no lavc 61 / lavf 61 version header at all), so a
# consistent release tree cannot be assembled from it. --make-model therefore derives a tree from
# the installed 5.1 headers:
#   1. the library versions and the FF_API_* removal gates of the release (taken from the
#      release's version.h / version_major.h), so that everything FFmpeg removed by then under
#      an FF_API_* gate disappears exactly as the real headers do it;
#   2. the post-5.1 API changes that touch the structures and calls vsrup uses, each marked
#      below with the library version that made it (doc/APIchanges): new fields and functions
#      are added, deprecated ones get attribute_deprecated, removed ones are deleted.
# Gates that a release postponed are not modelled (a 5.1 gate removes the item at the earlier
# major), so the model is stricter than the release there, never laxer for the listed items.
# It is a model: an API change that is not listed in step 2 is not checked.
set -euo pipefail

system_tree() { pkg-config --variable=includedir libavcodec 2>/dev/null || echo /usr/include; }

# ---- model building ------------------------------------------------------------------------

set_version() { # file LIB MAJOR|- MINOR MICRO
    local file=$1 lib=$2 major=$3 minor=$4 micro=$5
    [ "$major" = - ] || perl -pi -e "s/^(#define LIB${lib}_VERSION_MAJOR)\s+\d+/\$1 $major/" "$file"
    perl -pi -e "s/^(#define LIB${lib}_VERSION_MINOR)\s+\d+/\$1 $minor/;
                 s/^(#define LIB${lib}_VERSION_MICRO)\s+\d+/\$1 $micro/" "$file"
}

set_gates() { # file LIB "NAME:MAJOR ..." : replace the file's FF_API_* list with the release's
    local file=$1 lib=$2 defs="" g
    for g in $3; do
        defs+="#define FF_API_${g%%:*} (LIB${lib}_VERSION_MAJOR < ${g##*:})\n"
    done
    perl -0pi -e "s/^#define FF_API_\w+\s.*\n//mg; s/(\n#endif \/\* \w+_H \*\/\s*)\$/\n$defs\$1/" "$file"
}

deprecate() { # file regex-of-declaration-line
    perl -pi -e "s/^(\s*)($2)/\$1attribute_deprecated\n\$1\$2/" "$1"
}

delete_decl() { # file regex-of-declaration (up to its semicolon, may span lines)
    perl -0pi -e "s/^[ \t]*(?:attribute_deprecated\s*)?(?:$2)[^;]*;\n//mg" "$1"
}

insert_before() { # file regex-of-line text
    perl -0pi -e "s/^($2)/$3\n\$1/m" "$1"
}

make_model() {
    local ver=$1 dir=$2 src
    src=$(system_tree)
    [ -f "$src/libavcodec/version_major.h" ] || { echo "need the FFmpeg 5.1 headers in $src" >&2; exit 2; }
    case $ver in 6.1 | 7.1) ;; *) echo "--make-model: 6.1 or 7.1, not '$ver'" >&2; exit 2 ;; esac
    rm -rf "$dir" && mkdir -p "$dir"
    cp -r "$src"/libavcodec "$src"/libavformat "$src"/libavutil "$src"/libswscale "$dir"/
    local u=$dir/libavutil c=$dir/libavcodec f=$dir/libavformat s=$dir/libswscale

    if [ "$ver" = 6.1 ]; then
        set_version "$u/version.h" AVUTIL 58 29 100
        set_version "$c/version.h" AVCODEC - 31 102
        set_version "$f/version.h" AVFORMAT - 16 100
        set_version "$s/version.h" SWSCALE - 5 100
        perl -pi -e 's/^(#define LIBAVCODEC_VERSION_MAJOR)\s+\d+/$1 60/' "$c/version_major.h"
        perl -pi -e 's/^(#define LIBAVFORMAT_VERSION_MAJOR)\s+\d+/$1 60/' "$f/version_major.h"
        perl -pi -e 's/^(#define LIBSWSCALE_VERSION_MAJOR)\s+\d+/$1 7/' "$s/version_major.h"
        set_gates "$u/version.h" AVUTIL "OLD_CHANNEL_LAYOUT:59 PKT_DURATION:59 REORDERED_OPAQUE:59
            FRAME_PICKING:59 FRAME_PKT:59 INTERLACED_FRAME:59 FRAME_KEY:59 PALETTE_HAS_CHANGED:59"
        set_gates "$c/version_major.h" AVCODEC "INIT_PACKET:61 IDCT_NONE:61 SVTAV1_OPTS:61
            AYUV_CODECID:61 VT_OUTPUT_CALLBACK:61 AVCODEC_CHROMA_POS:61 VT_HWACCEL_CONTEXT:61
            AVCTX_FRAME_NUMBER:61 SLICE_OFFSET:61 SUBFRAMES:61 TICKS_PER_FRAME:61 DROPCHANGED:61
            AVFFT:62 FF_PROFILE_LEVEL:62"
        set_gates "$f/version_major.h" AVFORMAT "COMPUTE_PKT_FIELDS2:61 GET_END_PTS:61
            AVIODIRCONTEXT:61 AVFORMAT_IO_CLOSE:61 AVIO_WRITE_NONCONST:61 LAVF_SHORTEST:61
            ALLOW_FLUSH:61 AVSTREAM_SIDE_DATA:61 R_FRAME_RATE:999"
    else
        set_version "$u/version.h" AVUTIL 59 39 100
        set_version "$c/version.h" AVCODEC - 19 100
        set_version "$f/version.h" AVFORMAT - 7 100
        set_version "$s/version.h" SWSCALE - 3 100
        perl -pi -e 's/^(#define LIBAVCODEC_VERSION_MAJOR)\s+\d+/$1 61/' "$c/version_major.h"
        perl -pi -e 's/^(#define LIBAVFORMAT_VERSION_MAJOR)\s+\d+/$1 61/' "$f/version_major.h"
        perl -pi -e 's/^(#define LIBSWSCALE_VERSION_MAJOR)\s+\d+/$1 8/' "$s/version_major.h"
        set_gates "$u/version.h" AVUTIL "HDR_VIVID_THREE_SPLINE:60 FRAME_PKT:60
            INTERLACED_FRAME:60 FRAME_KEY:60 PALETTE_HAS_CHANGED:60 VULKAN_CONTIGUOUS_MEMORY:60
            H274_FILM_GRAIN_VCS:60"
        set_gates "$c/version_major.h" AVCODEC "INIT_PACKET:62 SUBFRAMES:62 TICKS_PER_FRAME:62
            DROPCHANGED:62 AVFFT:62 FF_PROFILE_LEVEL:62 AVCODEC_CLOSE:62 BUFFER_MIN_SIZE:62
            VDPAU_ALLOC_GET_SET:62 QUALITY_FACTOR:62"
        set_gates "$f/version_major.h" AVFORMAT "COMPUTE_PKT_FIELDS2:62 LAVF_SHORTEST:62
            ALLOW_FLUSH:62 AVSTREAM_SIDE_DATA:62 GET_DUR_ESTIMATE_METHOD:62 INTERNAL_TIMING:62
            R_FRAME_RATE:999"
    fi

    # lavu 57.30: AVFrame.duration replaces pkt_duration (pkt_duration removed in lavu 59).
    insert_before "$u/frame.h" '} AVFrame;' '    int64_t duration;'
    if [ "$ver" = 6.1 ]; then
        deprecate "$u/frame.h" 'int64_t pkt_duration;'
    else
        delete_decl "$u/frame.h" 'int64_t pkt_duration'
    fi
    # lavu 58.7: key/interlaced/top-field-first become AV_FRAME_FLAG_*; lavu 58.x also deprecates
    # pkt_pos, pkt_size, palette_has_changed, reordered_opaque (the last removed in lavu 59).
    insert_before "$u/frame.h" '#define AV_FRAME_FLAG_DISCARD' \
        '#define AV_FRAME_FLAG_KEY (1 << 1)\n#define AV_FRAME_FLAG_INTERLACED (1 << 3)\n#define AV_FRAME_FLAG_TOP_FIELD_FIRST (1 << 4)'
    local field
    for field in 'int key_frame;' 'int interlaced_frame;' 'int top_field_first;' \
        'int palette_has_changed;' 'int64_t pkt_pos;' 'int pkt_size;'; do
        deprecate "$u/frame.h" "$field"
    done
    if [ "$ver" = 6.1 ]; then
        deprecate "$u/frame.h" 'int64_t reordered_opaque;'
        deprecate "$c/avcodec.h" 'int64_t reordered_opaque;'
    else
        delete_decl "$u/frame.h" 'int64_t reordered_opaque'
        delete_decl "$c/avcodec.h" 'int64_t reordered_opaque'
    fi

    # lavc 60.2: AVCodecContext.frame_num replaces frame_number (removed in lavc 61).
    insert_before "$c/avcodec.h" '} AVCodecContext;' '    int64_t frame_num;'
    if [ "$ver" = 6.1 ]; then
        deprecate "$c/avcodec.h" 'int frame_number;'
    else
        delete_decl "$c/avcodec.h" 'int frame_number'
    fi
    # lavc 60.12: ticks_per_frame deprecated (removed in lavc 62).
    deprecate "$c/avcodec.h" 'int ticks_per_frame;'
    # lavc 61.x (7.1): avcodec_close deprecated; avcodec_free_context does it all.
    [ "$ver" = 6.1 ] || deprecate "$c/avcodec.h" 'int avcodec_close\('
    # lavc 60.x: AV_PROFILE_* / AV_LEVEL_UNKNOWN in defs.h, same values as the FF_ names.
    grep -E '^#define FF_(PROFILE|LEVEL)_' "$c/avcodec.h" | sed 's/^#define FF_/#define AV_/' \
        >"$dir/profiles.tmp"
    perl -0pi -e 'BEGIN { local $/; open my $h, "<", "'"$dir/profiles.tmp"'"; $p = <$h> }
                  s/(\n#endif \/\/ AVCODEC_DEFS_H)/\n$p$1/' "$c/defs.h"
    rm "$dir/profiles.tmp"

    # lavc 60.29 / lavf 60.15: stream side data moves to AVCodecParameters.coded_side_data,
    # handled with av_packet_side_data_*(); AVStream's side data is deprecated (removed in
    # lavf 62). lavc 60.30: AVCodecParameters.framerate.
    insert_before "$c/codec_par.h" '} AVCodecParameters;' \
        '    AVPacketSideData *coded_side_data;\n    int nb_coded_side_data;\n    AVRational framerate;'
    insert_before "$c/codec_par.h" '#include "codec_id.h"' '#include "packet.h"'
    insert_before "$c/packet.h" 'int av_packet_unpack_dictionary' \
        'AVPacketSideData *av_packet_side_data_new(AVPacketSideData **psd, int *pnb_sd, enum AVPacketSideDataType type, size_t size, int flags);
AVPacketSideData *av_packet_side_data_add(AVPacketSideData **sd, int *nb_sd, enum AVPacketSideDataType type, void *data, size_t size, int flags);
const AVPacketSideData *av_packet_side_data_get(const AVPacketSideData *sd, int nb_sd, enum AVPacketSideDataType type);
void av_packet_side_data_remove(AVPacketSideData *sd, int *nb_sd, enum AVPacketSideDataType type);
void av_packet_side_data_free(AVPacketSideData **sd, int *nb_sd);'
    deprecate "$f/avformat.h" 'AVPacketSideData \*side_data;'
    deprecate "$f/avformat.h" 'int\s+nb_side_data;'
    for field in 'int av_stream_add_side_data\(' 'uint8_t \*av_stream_new_side_data\(' \
        'uint8_t \*av_stream_get_side_data\('; do
        deprecate "$f/avformat.h" "$field"
    done
}

# ---- checking ------------------------------------------------------------------------------

check_tree() { # header_dir -> 0 clean, 1 otherwise
    local dir=$1 file log bad=0 nerr nwarn ndep leak
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/libavcodec/version.h" ] || { echo "$dir: no libavcodec/version.h" >&2; return 1; }
    echo "== $dir: $(version_of "$dir")"
    log=$(mktemp)
    for file in $(find src tests/unit -name "*.c" | sort); do
        if cc -std=c11 -fsyntax-only -H -Wall -Wextra -Werror=implicit-function-declaration \
            -Werror=incompatible-pointer-types -D_DEFAULT_SOURCE -DVSR_VERSION="\"check\"" \
            -I include -I tests/unit -I "$dir" "$file" >"$log" 2>&1; then :; fi
        nerr=$(grep -c ': error: ' "$log" || true)
        nwarn=$(grep -c ': warning: ' "$log" || true)
        ndep=$(grep -c 'Wdeprecated-declarations' "$log" || true)
        leak=$(grep -E '^\.+ /.*/lib(avcodec|avformat|avutil|swscale)/' "$log" |
            grep -v "^\.* $dir/" | sed 's/^\.* //' | sort -u || true)
        if [ "$nerr" = 0 ] && [ "$nwarn" = 0 ] && [ -z "$leak" ]; then
            printf '  ok    %s\n' "$file"
            continue
        fi
        bad=1
        printf '  FAIL  %s: %s errors, %s warnings (%s deprecations)\n' "$file" "$nerr" "$nwarn" "$ndep"
        grep -E ': (error|warning): ' "$log" | sed 's/^/          /' || true
        # shellcheck disable=SC2086 # one line per path
        [ -z "$leak" ] || printf '          header from outside the tree: %s\n' $leak
    done
    rm -f "$log"
    return $bad
}

version_of() {
    printf '#include <libavcodec/version.h>\n#include <libavformat/version.h>\n#include <libswscale/version.h>\nlavu LIBAVUTIL_VERSION lavc LIBAVCODEC_VERSION lavf LIBAVFORMAT_VERSION sws LIBSWSCALE_VERSION\n' |
        cc -E -P -I "$1" - 2>/dev/null | tail -n 1
}

fetch_debian() { # suite dir: the suite's FFmpeg -dev headers, extracted under dir
    local suite=$1 dir=$2 apt deb
    apt=$(mktemp -d)
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir"
    echo "deb http://deb.debian.org/debian $suite main" >"$apt/sources.list"
    local opts=(-q -o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
    if ! apt-get "${opts[@]}" update >"$apt/log" 2>&1 ||
        ! (cd "$apt" && apt-get "${opts[@]}" download libavcodec-dev libavformat-dev \
            libavutil-dev libswscale-dev >>"$apt/log" 2>&1); then
        echo "cannot download Debian $suite's FFmpeg headers:" >&2
        tail -n 3 "$apt/log" >&2
        rm -rf "$apt"
        return 1
    fi
    for deb in "$apt"/*.deb; do dpkg-deb -x "$deb" "$apt/root"; done
    rm -rf "$dir/include"
    mv "$apt/root/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
        gcc -dumpmachine)" "$dir/include"
    rm -rf "$apt"
}

cd "$(dirname "$0")/.."
if [ "${1:-}" = --debian ]; then
    [ $# = 3 ] || { echo "usage: $0 --debian SUITE DIR" >&2; exit 2; }
    fetch_debian "$2" "$3"
    echo "Debian $2's FFmpeg headers in $3/include: $(version_of "$3/include")"
    exit 0
fi
if [ "${1:-}" = --all ]; then
    [ $# = 2 ] || { echo "usage: $0 --all WORKDIR" >&2; exit 2; }
    work=$2
    make_model 6.1 "$work/model-6.1"
    status=0
    check_tree "$(system_tree)" || status=1
    check_tree "$work/model-6.1" || status=1
    if [ ! -f "$work/trixie/include/libavcodec/version.h" ] && ! fetch_debian trixie "$work/trixie"; then
        echo "SKIP: FFmpeg 7.1 not checked (Debian trixie's headers could not be fetched)"
        [ $status = 0 ] && exit 77
    fi
    [ ! -f "$work/trixie/include/libavcodec/version.h" ] || check_tree "$work/trixie/include" || status=1
    exit $status
fi
if [ "${1:-}" = --make-model ]; then
    [ $# = 3 ] || { echo "usage: $0 --make-model 6.1|7.1 DIR" >&2; exit 2; }
    make_model "$2" "$3"
    echo "model of FFmpeg $2 written to $3: $(version_of "$3")"
    exit 0
fi
[ $# -ge 1 ] || { echo "usage: $0 HEADER_DIR... | --make-model 6.1|7.1 DIR" >&2; exit 2; }
status=0
for tree in "$@"; do check_tree "$tree" || status=1; done
exit $status
