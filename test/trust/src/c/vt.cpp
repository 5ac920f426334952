// Virtual calls through vtables: the kernels are reached only through
// indirect calls.
#include <cstdio>
#include <memory>
#include <vector>
struct Shape {
	virtual ~Shape() = default;
	virtual double area(const std::vector<float>& v) const = 0;
};
struct Sum : Shape {
	double area(const std::vector<float>& v) const override {
		float s = 0;
		for (float x : v) s += x * x;
		return s;
	}
};
struct Scale : Shape {
	double area(const std::vector<float>& v) const override {
		std::vector<float> w(v.size());
		for (size_t i = 0; i < v.size(); i++) w[i] = v[i] * 1.5f + 2.0f;
		return w[v.size() / 2];
	}
};
int main() {
	std::vector<float> v(65536);
	for (size_t i = 0; i < v.size(); i++) v[i] = i * 0.001f;
	std::vector<std::unique_ptr<Shape>> shapes;
	shapes.emplace_back(new Sum);
	shapes.emplace_back(new Scale);
	double t = 0;
	for (int r = 0; r < 10; r++)
		for (auto& s : shapes) t += s->area(v);
	std::printf("%.2f\n", t);
}
