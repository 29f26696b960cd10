# Huella in a container: a static binary on a distroless base, running as
# a non-root user, its data in a volume.
#
#   docker build --build-arg VERSION=v1.0.0 --build-arg COMMIT=$(git rev-parse HEAD) -t huella .
#   docker run -p 8080:8080 -v huella-data:/data huella
#
# See deploy/compose.yaml for one box, and README "Deploy".

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
# CGO off: the SQLite driver is pure Go, so the binary is static.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/huella-abis/huella/internal/buildinfo.version=${VERSION} -X github.com/huella-abis/huella/internal/buildinfo.commit=${COMMIT}" \
      -o /out/huella ./cmd/huella \
 && mkdir -p /out/data && chown 65532:65532 /out/data && chmod 700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/huella /usr/local/bin/huella
COPY --from=build --chown=65532:65532 /out/data /data
COPY LICENSE NOTICE /usr/share/doc/huella/
USER 65532:65532
ENV HUELLA_DATA=/data \
    HUELLA_ADDR=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/huella"]
CMD ["serve"]
