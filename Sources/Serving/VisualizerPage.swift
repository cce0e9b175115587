/// The page `GET /` serves: draw a digit and watch every layer respond.
///
/// Plain HTML, CSS and JavaScript in one string, no external assets. It reads `/v1/model`
/// once, then posts the drawing to `/v1/activations` as you draw (one request in flight,
/// the latest drawing sent when it returns) and shows:
/// - the input as the network sees it (the stroke cropped, fitted into 20x20 and centred by
///   its centre of mass in 28x28, as MNIST's digits were made);
/// - the feature maps of every convolution and pooling layer, one scale per layer;
/// - the dense activations as strips of cells;
/// - the softmax probabilities as bars.
/// Clicking a map enlarges it beside its filter (for convolutions). `?selftest` draws a
/// scripted "7" stroke with pointer events and writes the result into `#status`, for tests
/// in a headless browser (`?selftest=zoom` also opens the first map's enlargement).
enum VisualizerPage {
    static let html = #"""
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fovea visualizer</title>
<style>
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0;background:#f4f6f9;color:#222}
header{background:#1f2a3a;color:#fff;padding:10px 18px}header h1{font-size:18px;margin:0}header span{color:#b8c4d6;font-size:13px}
main{display:flex;gap:18px;padding:16px;align-items:flex-start}
.panel{background:#fff;border:1px solid #d8dde5;border-radius:6px;padding:12px}
#left{flex:0 0 310px}#right{flex:1;min-width:0}
#pad{background:#000;touch-action:none;cursor:crosshair;border-radius:4px;display:block}
button{margin-top:8px;padding:5px 14px;font-size:14px}
canvas.px{image-rendering:pixelated}
.layer{margin-bottom:14px}.layer h3{font-size:13px;margin:0 0 4px;font-weight:600}.layer h3 small{color:#777;font-weight:normal}
.maps{display:flex;flex-wrap:wrap;gap:3px}.maps canvas{cursor:zoom-in;border:1px solid #ccc}
.bar{display:flex;align-items:center;font-size:13px;margin:2px 0}.bar .n{width:70px;text-align:right;padding-right:6px;overflow:hidden;white-space:nowrap}
.bar .t{flex:1;background:#eef1f5;height:14px}.bar .f{background:#8fb3d9;height:14px}.bar.best .f{background:#1f5fa8}.bar .v{width:60px;padding-left:6px;color:#555}
#status{font-size:14px;margin:8px 0;min-height:18px}
#zoom{position:fixed;inset:0;background:rgba(0,0,0,.6);display:none;align-items:center;justify-content:center}
#zoom .box{background:#fff;padding:14px;border-radius:6px;max-width:90vw}#zoom .row{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}
</style></head><body>
<header><h1>Fovea visualizer</h1><span id="model">loading the model…</span></header>
<main>
<div id="left" class="panel">
<div>Draw a digit:</div>
<canvas id="pad" width="280" height="280"></canvas>
<button id="clear">Clear</button>
<div id="status"></div>
<div>Input as the network sees it:</div>
<canvas id="seen" class="px" width="140" height="140" style="border:1px solid #ccc"></canvas>
<h3 style="font-size:14px">Probabilities</h3><div id="bars"></div>
</div>
<div id="right" class="panel"><div id="layers">Draw to see every layer respond.</div></div>
</main>
<div id="zoom"><div class="box"><div id="ztitle" style="font-weight:600;margin-bottom:8px"></div><div class="row" id="zrow"></div><button id="zclose">Close</button></div></div>
<script>
"use strict";
const HEAT=[[0,0,0],[87,15,110],[186,54,85],[250,140,10],[252,255,164]];
const DIV=[[5,48,97],[146,197,222],[255,255,255],[245,165,130],[103,0,13]];
function ramp(stops,t){t=Math.max(0,Math.min(1,isFinite(t)?t:0))*(stops.length-1);const i=Math.min(Math.floor(t),stops.length-2),f=t-i,a=stops[i],b=stops[i+1];return [a[0]+(b[0]-a[0])*f,a[1]+(b[1]-a[1])*f,a[2]+(b[2]-a[2])*f];}
function paint(canvas,values,h,w,lo,hi,stops,scale){
  canvas.width=w*scale;canvas.height=h*scale;canvas.classList.add("px");
  const ctx=canvas.getContext("2d"),img=ctx.createImageData(w,h),span=hi-lo||1;
  for(let i=0;i<h*w;i++){const c=ramp(stops,(values[i]-lo)/span);img.data[4*i]=c[0];img.data[4*i+1]=c[1];img.data[4*i+2]=c[2];img.data[4*i+3]=255;}
  const tmp=document.createElement("canvas");tmp.width=w;tmp.height=h;tmp.getContext("2d").putImageData(img,0,0);
  ctx.imageSmoothingEnabled=false;ctx.drawImage(tmp,0,0,w*scale,h*scale);return canvas;}
const pad=document.getElementById("pad"),pctx=pad.getContext("2d");
let model=null,drawing=false,last=null,busy=false,dirty=false,lastAnswer=null;
function clearPad(){pctx.fillStyle="#000";pctx.fillRect(0,0,pad.width,pad.height);}
clearPad();
function point(e){const r=pad.getBoundingClientRect();return [(e.clientX-r.left)*pad.width/r.width,(e.clientY-r.top)*pad.height/r.height];}
pad.addEventListener("pointerdown",e=>{drawing=true;last=point(e);stroke(last,last);});
pad.addEventListener("pointermove",e=>{if(!drawing)return;const p=point(e);stroke(last,p);last=p;});
for(const ev of ["pointerup","pointerleave","pointercancel"])pad.addEventListener(ev,()=>{drawing=false;});
function stroke(a,b){pctx.strokeStyle="#fff";pctx.lineWidth=22;pctx.lineCap="round";pctx.lineJoin="round";pctx.beginPath();pctx.moveTo(a[0],a[1]);pctx.lineTo(b[0],b[1]);pctx.stroke();schedule();}
document.getElementById("clear").onclick=()=>{clearPad();document.getElementById("layers").textContent="Draw to see every layer respond.";document.getElementById("bars").textContent="";document.getElementById("status").textContent="";};
function side(){return model.fit||model.input[1]===28?28:model.input[1];}
// MNIST's recipe: the stroke's bounding box fitted into 20x20, then centred by mass in 28x28.
function prepare(){
  const n=side(),src=pctx.getImageData(0,0,pad.width,pad.height).data;let x0=pad.width,y0=pad.height,x1=-1,y1=-1;
  for(let y=0;y<pad.height;y++)for(let x=0;x<pad.width;x++)if(src[4*(y*pad.width+x)]>25){if(x<x0)x0=x;if(x>x1)x1=x;if(y<y0)y0=y;if(y>y1)y1=y;}
  const out=new Float32Array(n*n);if(x1<0)return out;
  const bw=x1-x0+1,bh=y1-y0+1,box=n*20/28,s=box/Math.max(bw,bh),dw=bw*s,dh=bh*s;
  const tmp=document.createElement("canvas");tmp.width=n;tmp.height=n;const t=tmp.getContext("2d");t.fillStyle="#000";t.fillRect(0,0,n,n);
  t.imageSmoothingEnabled=true;t.imageSmoothingQuality="high";t.drawImage(pad,x0,y0,bw,bh,(n-dw)/2,(n-dh)/2,dw,dh);
  let d=t.getImageData(0,0,n,n).data,m=0,cx=0,cy=0;
  for(let y=0;y<n;y++)for(let x=0;x<n;x++){const v=d[4*(y*n+x)]/255;m+=v;cx+=v*x;cy+=v*y;}
  const dx=Math.round((n-1)/2-cx/m),dy=Math.round((n-1)/2-cy/m);
  const tmp2=document.createElement("canvas");tmp2.width=n;tmp2.height=n;const t2=tmp2.getContext("2d");t2.fillStyle="#000";t2.fillRect(0,0,n,n);t2.drawImage(tmp,dx,dy);
  d=t2.getImageData(0,0,n,n).data;let top=0;for(let i=0;i<n*n;i++)top=Math.max(top,d[4*i]);
  for(let i=0;i<n*n;i++)out[i]=top>0?d[4*i]/top:0;return out;}
function schedule(){dirty=true;if(!busy)send();}
async function send(){
  if(!model)return;dirty=false;busy=true;const n=side(),px=prepare(),rows=[];
  for(let y=0;y<n;y++)rows.push(Array.from(px.slice(y*n,(y+1)*n),v=>Math.round(v*1000)/1000));
  try{const r=await fetch("/v1/activations",{method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify({pixels:rows})});
    const a=await r.json();if(!r.ok)throw new Error(a.error?a.error.message:r.status);lastAnswer=a;render(a);}
  catch(e){document.getElementById("status").textContent="error: "+e.message;}
  busy=false;if(dirty)send();}
function render(a){
  const st=document.getElementById("status");st.textContent="prediction: "+a.class+" ("+(a.probability*100).toFixed(1)+"%) in "+a.milliseconds.total+" ms";st.dataset.prediction=a.class;
  const inp=a.input;paint(document.getElementById("seen"),inp.values,inp.shape[1],inp.shape[2],0,1,[[0,0,0],[255,255,255]],Math.max(1,Math.floor(140/inp.shape[2])));
  const bars=document.getElementById("bars");bars.textContent="";
  a.probabilities.forEach((p,i)=>{const b=document.createElement("div");b.className="bar"+(i===a.index?" best":"");
    b.innerHTML='<span class="n"></span><span class="t"><div class="f"></div></span><span class="v"></span>';
    b.querySelector(".n").textContent=a.classes[i];b.querySelector(".f").style.width=(p*100).toFixed(1)+"%";b.querySelector(".v").textContent=p.toFixed(3);bars.appendChild(b);});
  const box=document.getElementById("layers");box.textContent="";
  a.layers.forEach(l=>{const d=document.createElement("div");d.className="layer";const h=document.createElement("h3");
    h.innerHTML=l.name+' <small>'+l.type+' '+l.shape.join("x")+'</small>';d.appendChild(h);const g=document.createElement("div");g.className="maps";d.appendChild(g);
    if(l.values===null){g.textContent="(too large to send)";box.appendChild(d);return;}
    let lo=Infinity,hi=-Infinity;for(const v of l.values){if(v<lo)lo=v;if(v>hi)hi=v;}
    if(l.shape.length===3){const [c,hh,ww]=l.shape,scale=Math.max(1,Math.round(48/Math.max(hh,ww))),plane=hh*ww;
      for(let k=0;k<Math.min(c,128);k++){const cv=document.createElement("canvas");cv.className="map";cv.title=l.name+" channel "+k;
        paint(cv,l.values.slice(k*plane,(k+1)*plane),hh,ww,lo,hi,HEAT,scale);cv.onclick=()=>zoom(l,k,lo,hi);g.appendChild(cv);}}
    else{const n=l.values.length,cols=Math.min(n,84),rows=Math.ceil(n/cols),cv=document.createElement("canvas");cv.className="dense";
      const vals=Array.from({length:rows*cols},(_,i)=>i<n?l.values[i]:lo);paint(cv,vals,rows,cols,lo,hi,HEAT,Math.max(4,Math.floor(480/cols)));cv.title=l.name+": "+n+" values";g.appendChild(cv);}
    box.appendChild(d);});}
function zoom(l,k,lo,hi){
  const [c,h,w]=l.shape,plane=h*w,row=document.getElementById("zrow");row.textContent="";
  document.getElementById("ztitle").textContent=l.name+" channel "+k+" ("+h+"x"+w+")";
  const big=document.createElement("canvas");paint(big,l.values.slice(k*plane,(k+1)*plane),h,w,lo,hi,HEAT,Math.max(1,Math.floor(280/Math.max(h,w))));row.appendChild(big);
  const f=model.filters[l.name];
  if(f&&l.type==="Conv2D"){const [o,i,kh,kw]=f.shape,sz=kh*kw,fv=f.values.slice(k*i*sz,(k+1)*i*sz);let m=0;for(const v of fv)m=Math.max(m,Math.abs(v));
    const wrap=document.createElement("div");wrap.innerHTML="<div>its filter: "+i+" input channel"+(i>1?"s":"")+" of "+kh+"x"+kw+"</div>";
    const fl=document.createElement("div");fl.className="maps";for(let j=0;j<Math.min(i,64);j++){const cv=document.createElement("canvas");paint(cv,fv.slice(j*sz,(j+1)*sz),kh,kw,-m||-1,m||1,DIV,Math.max(4,Math.floor(120/Math.max(kh,kw))));fl.appendChild(cv);}
    wrap.appendChild(fl);row.appendChild(wrap);}
  document.getElementById("zoom").style.display="flex";}
document.getElementById("zclose").onclick=()=>{document.getElementById("zoom").style.display="none";};
async function init(){
  try{const r=await fetch("/v1/model");model=await r.json();
    document.getElementById("model").textContent=model.model+", input "+model.input.join("x")+", "+model.parameters.toLocaleString()+" parameters";}
  catch(e){document.getElementById("model").textContent="cannot load the model: "+e.message;return;}
  if(location.search.indexOf("selftest")>=0)selftest();}
// A scripted "7": a top bar, then a diagonal down, drawn with real pointer events.
function selftest(){
  const r=pad.getBoundingClientRect(),pts=[];
  for(let i=0;i<=10;i++)pts.push([70+i*14,70]);for(let i=1;i<=12;i++)pts.push([210-i*7,70+i*15]);
  const ev=(type,p)=>pad.dispatchEvent(new PointerEvent(type,{clientX:r.left+p[0]*r.width/pad.width,clientY:r.top+p[1]*r.height/pad.height,bubbles:true,pointerId:1}));
  ev("pointerdown",pts[0]);for(const p of pts.slice(1))ev("pointermove",p);ev("pointerup",pts[pts.length-1]);
  const wait=()=>{if(lastAnswer&&!busy){document.getElementById("status").dataset.selftest="done";document.title="selftest done: "+lastAnswer.class;if(location.search.indexOf("zoom")>=0&&lastAnswer.layers.length)zoom(lastAnswer.layers[0],0,Math.min(...lastAnswer.layers[0].values),Math.max(...lastAnswer.layers[0].values));}else setTimeout(wait,50);};wait();}
init();
</script>
</body></html>
"""#
}
